// Kite's engine in a dedicated module worker: the same wasm module as the page, entered through
// worker_main, which answers the page's JSON messages and says welcome when ready.
import init, { worker_main } from "./kite_frontend.js";
await init({ module_or_path: new URL("./kite_frontend_bg.wasm", import.meta.url) });
worker_main();
