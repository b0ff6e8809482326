// The newsroom (latest headlines first) and the notification feed with its unread
// count. Both start from the snapshot's recent items and grow with `news` and
// `notification` events.
import { ago, byId, h, keepTimesFresh } from "./util.js";

const KEEP_NEWS = 4;
const KEEP_NOTES = 5;

export function news() {
  const list = byId("news");

  function item(story, fresh) {
    return h(
      "li",
      { class: fresh ? "story fresh" : "story", dataset: { id: story.id } },
      h("span", { class: "cat", dataset: { cat: story.category.toLowerCase() } }, story.category),
      h("p", { class: "headline" }, story.headline),
      h("time", { dataset: { time: story.time } }, ago(story.time)),
    );
  }

  return {
    snapshot(stories) {
      list.replaceChildren(...stories.slice(0, KEEP_NEWS).map((story) => item(story, false)));
    },
    add(story) {
      list.prepend(item(story, true));
      while (list.children.length > KEEP_NEWS) list.lastElementChild.remove();
    },
  };
}

const ICONS = {
  success: "M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z",
  warning: "M1 21h22L12 2zm12-3h-2v-2h2zm0-4h-2v-4h2z",
  info: "M11 7h2v2h-2zm0 4h2v6h-2zm1-9C6.5 2 2 6.5 2 12s4.5 10 10 10 10-4.5 10-10S17.5 2 12 2z",
};

function icon(level) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[level] || ICONS.info);
  svg.append(path);
  return svg;
}

export function notifications() {
  const list = byId("notes");
  const unread = byId("unread");
  const markRead = byId("mark-read");
  // Unread ids, including those that scrolled out of the list.
  const unreadIds = new Set();

  function count() {
    const n = unreadIds.size;
    unread.textContent = n;
    unread.dataset.count = n;
    markRead.disabled = n === 0;
    document.title = n > 0 ? `(${n}) sse-wasm · live demo` : "sse-wasm · live demo";
  }

  function item(note, isUnread) {
    if (isUnread) unreadIds.add(note.id);
    const element = h(
      "li",
      {
        class: isUnread ? "note unread" : "note",
        dataset: { id: note.id, level: note.level },
        tabindex: 0,
        title: isUnread ? "Click to mark as read" : undefined,
      },
      h("span", { class: "icon" }, icon(note.level)),
      h("div", { class: "note-text" }, h("b", {}, note.title), h("p", {}, note.body)),
      h("time", { dataset: { time: note.time } }, ago(note.time)),
    );
    const read = () => {
      unreadIds.delete(note.id);
      element.classList.remove("unread");
      element.removeAttribute("title");
      count();
    };
    element.addEventListener("click", read);
    element.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") read();
    });
    return element;
  }

  markRead.addEventListener("click", () => {
    for (const element of list.querySelectorAll(".note.unread")) element.classList.remove("unread");
    unreadIds.clear();
    count();
  });
  keepTimesFresh();

  return {
    snapshot(notes) {
      unreadIds.clear();
      // What happened before this page was opened counts as read, except the latest.
      list.replaceChildren(...notes.slice(0, KEEP_NOTES).map((note, i) => item(note, i === 0)));
      count();
    },
    add(note) {
      list.prepend(item(note, true));
      while (list.children.length > KEEP_NOTES) list.lastElementChild.remove();
      count();
    },
  };
}
