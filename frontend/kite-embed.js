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
