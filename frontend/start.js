// The page's entry (index.html loads it, so the page needs no inline script and its
// Content-Security-Policy can refuse every script that is not one of these files). The engine
// itself runs in worker.js; this module only draws the UI.
import init, { run_app } from "./kite_frontend.js";
await init({ module_or_path: new URL("./kite_frontend_bg.wasm", import.meta.url) });
run_app();
