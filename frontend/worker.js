// Kite's engine in a dedicated module worker: the same wasm module as the page, entered through
// worker_main, which answers the page's messages and says welcome when ready. The page's first
// message is the module, compiled (one compile per page, however many workers); it sends nothing
// else before the welcome.
import init, { worker_main } from "./kite_frontend.js";
self.addEventListener("message", async (event) => {
  await init({ module_or_path: event.data });
  worker_main();
}, { once: true });
