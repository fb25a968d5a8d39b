// <kite-playground>: a live Kite cluster in a docs page. The element's scenario script is the
// text of a <script type="text/kite-scenario"> inside it (docs/scenarios.md); `views` names the
// views to show (default "producer,partitions"), `height` its height in CSS pixels, `lang` its
// language (en, ko), and `locked` leaves only the scenario's Continue as a control. When its
// scenario has played to its end the element gets a `finished` attribute and fires `kite-finished`
// (the docs course counts a chapter done by them). Each element
// mounts its own playground, with its own engine in its own worker, in a shadow root, so several
// on one page run independently and the page's styles do not reach in. The engine's module is
// compiled once for the page, as it downloads, and handed to every element's worker.
const base = new URL(".", import.meta.url).href;
// The module's download starts at once, beside its JavaScript glue's, not after it.
const download = fetch(new URL("./kite_frontend_bg.wasm", import.meta.url));
const glue = import("./kite_frontend.js");
const ready = (async () => {
  const module = await WebAssembly.compileStreaming(download);
  const engine = await glue;
  await engine.default({ module_or_path: module });
  engine.set_engine_module(new URL("./worker.js", import.meta.url).href, module);
  return engine;
})();

class KitePlayground extends HTMLElement {
  async connectedCallback() {
    if (this.shadowRoot) return;
    const source = this.querySelector('script[type="text/kite-scenario"]');
    const scenario = source ? source.textContent : (this.getAttribute("scenario") || "");
    const shadow = this.attachShadow({ mode: "open" });
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = new URL("./style.css", import.meta.url).href;
    const root = document.createElement("div");
    const height = this.getAttribute("height");
    if (height) root.style.cssText = `height:${parseInt(height, 10)}px;overflow:auto`;
    shadow.append(style, root);
    const { mount_playground } = await ready;
    const finished = new MutationObserver(() => {
      const summary = shadow.querySelector("#scenario-summary");
      if (!summary || summary.dataset.finished !== "true") return;
      finished.disconnect();
      this.setAttribute("finished", "");
      this.dispatchEvent(new CustomEvent("kite-finished", { bubbles: true }));
    });
    finished.observe(shadow, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-finished"] });
    mount_playground(root, scenario, this.getAttribute("views") || "", base, this.getAttribute("lang") || "",
      this.hasAttribute("locked"));
  }
}

customElements.define("kite-playground", KitePlayground);

// <kite-compare>: one scenario on two engines that differ in one setting, side by side and in
// lockstep. The script (a <script type="text/kite-scenario"> inside) names what differs as
// {{NAME}}; attributes `a` and `b` give each side's values as `NAME=VALUE; NAME=VALUE` (a value
// may hold `=`: `acks=acks=1` sets {{acks}} to `acks=1`), and `label-a` / `label-b` their
// captions (each side's first value when absent). Continue, or a question's answer, pressed on
// one side is pressed on the other as soon as it can be; a step whose report differs between the
// sides is highlighted on both, and the first such step is named below them.
function substitute(template, pairs) {
  const values = new Map();
  for (const pair of pairs.split(";")) {
    const at = pair.indexOf("=");
    if (at > 0) values.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
  }
  return {
    text: template.replace(/\{\{([A-Za-z0-9_-]+)\}\}/g, (whole, name) => values.get(name) ?? whole),
    first: values.values().next().value ?? "",
  };
}

// What a reader sees of each step on one side: line → report.
function reports(widget) {
  const root = widget.shadowRoot;
  const found = new Map();
  if (!root) return found;
  for (const li of root.querySelectorAll("#scenario-steps li[data-line]")) {
    const said = li.querySelector(".said");
    found.set(li.dataset.line, { li, text: said ? said.textContent.trim() : "" });
  }
  return found;
}

class KiteCompare extends HTMLElement {
  connectedCallback() {
    if (this.dataset.mounted) return;
    this.dataset.mounted = "true";
    const source = this.querySelector('script[type="text/kite-scenario"]');
    const template = source ? source.textContent : "";
    const korean = (this.getAttribute("lang") || document.documentElement.lang) === "ko";
    const pair = document.createElement("div");
    pair.className = "kite-compare-pair";
    const sides = ["a", "b"].map((side) => {
      const { text, first } = substitute(template, this.getAttribute(side) || "");
      const figure = document.createElement("figure");
      figure.dataset.side = side;
      const caption = document.createElement("figcaption");
      caption.textContent = this.getAttribute(`label-${side}`) || first;
      const widget = document.createElement("kite-playground");
      for (const name of ["views", "height", "lang", "locked"]) {
        if (this.hasAttribute(name)) widget.setAttribute(name, this.getAttribute(name));
      }
      widget.setAttribute("scenario", text);
      widget.setAttribute("aria-label", caption.textContent);
      figure.append(caption, widget);
      pair.append(figure);
      return { widget, label: caption.textContent, pending: [] };
    });
    const summary = document.createElement("p");
    summary.className = "kite-compare-difference";
    summary.setAttribute("aria-live", "polite");
    this.append(pair, summary);

    // Lockstep: a press on one side waits on the other until its button is there and enabled.
    const press = (side) => {
      const root = side.widget.shadowRoot;
      while (root && side.pending.length > 0) {
        const button = root.querySelector(side.pending[0]);
        if (!button || button.disabled) return;
        side.pending.shift();
        side.mirroring = true;
        button.click();
        side.mirroring = false;
      }
    };
    sides.forEach((side, index) => {
      const other = sides[1 - index];
      side.widget.addEventListener("click", (event) => {
        if (side.mirroring) return;
        const target = event.composedPath().find((e) => e instanceof HTMLElement && e.matches &&
          (e.matches("#scenario-continue") || e.matches("#scenario-question .choice")));
        if (!target) return;
        other.pending.push(target.id === "scenario-continue"
          ? "#scenario-continue"
          : `#scenario-question .choice[data-choice="${CSS.escape(target.dataset.choice)}"]`);
        press(other);
      });
    });

    // The differences, marked after every change on either side.
    const compare = () => {
      sides.forEach(press);
      const [left, right] = sides.map((s) => reports(s.widget));
      let first = null;
      for (const [line, a] of left) {
        const b = right.get(line);
        const differs = !!b && a.text !== b.text;
        for (const step of [a, b]) {
          if (step) step.li.toggleAttribute("data-differs", differs);
        }
        if (differs && first === null) first = { line, a: a.text, b: b.text };
      }
      summary.textContent = first === null ? "" : korean
        ? `${first.line}번째 줄부터 달라집니다. ${sides[0].label}: ${first.a} / ${sides[1].label}: ${first.b}`
        : `They part at line ${first.line}. ${sides[0].label}: ${first.a} / ${sides[1].label}: ${first.b}`;
      if (first !== null) summary.dataset.line = first.line;
    };
    const watch = new MutationObserver(compare);
    const observe = () => {
      for (const { widget } of sides) {
        if (widget.shadowRoot && !widget.dataset.watched) {
          widget.dataset.watched = "true";
          watch.observe(widget.shadowRoot, { subtree: true, childList: true, characterData: true, attributes: true,
            attributeFilter: ["disabled", "data-finished"] });
        }
      }
      if (sides.some(({ widget }) => !widget.dataset.watched)) requestAnimationFrame(observe);
    };
    observe();
  }
}

customElements.define("kite-compare", KiteCompare);
