// The course's progress, kept in this browser (localStorage), nowhere else: a chapter is done once
// every live cluster on its page has played its scenario to the end (a page without one, once
// opened). The table of contents (`{{chapters}}` on the front page) marks the chapters done.
const KEY = "kite-course-done";
const korean = document.documentElement.lang === "ko";

function doneChapters() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) || "[]");
    return new Set(Array.isArray(list) ? list.filter((n) => typeof n === "string") : []);
  } catch {
    return new Set(); // Storage off, or not ours: the course still reads, unmarked.
  }
}

function markDone(name) {
  const done = doneChapters();
  done.add(name);
  try {
    localStorage.setItem(KEY, JSON.stringify([...done]));
  } catch {
    // Storage off (a private window's quota): the mark lasts for this page only.
  }
  for (const tick of document.querySelectorAll(".chapter-done")) tick.hidden = false;
}

const chapter = document.querySelector("main[data-chapter]");
if (chapter) {
  const name = chapter.dataset.chapter;
  // Asked each time: a <kite-compare> adds its two widgets when it mounts.
  const check = () => {
    if ([...document.querySelectorAll("kite-playground")].every((w) => w.hasAttribute("finished"))) markDone(name);
  };
  if (doneChapters().has(name)) markDone(name);
  document.addEventListener("kite-finished", check);
  check();
}

const contents = document.getElementById("course");
if (contents) {
  const done = doneChapters();
  const items = [...contents.querySelectorAll("li[data-chapter]")];
  for (const item of items) {
    if (!done.has(item.dataset.chapter)) continue;
    item.classList.add("done");
    const mark = document.createElement("span");
    mark.className = "done-mark";
    mark.textContent = korean ? " ✓ 완료" : " ✓ done";
    item.append(mark);
  }
  const count = items.filter((i) => i.classList.contains("done")).length;
  const progress = document.getElementById("course-progress");
  if (progress && count > 0) {
    progress.textContent = korean
      ? `전체 ${items.length}장 중 ${count}장을 마쳤습니다 (이 브라우저에 저장).`
      : `${count} of ${items.length} chapters done (kept in this browser).`;
  }
}
