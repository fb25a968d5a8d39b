// The page's entry (index.html loads it, so the page needs no inline script and its
// Content-Security-Policy can refuse every script that is not one of these files). The engine
// itself runs in worker.js; this module only draws the UI. The module is compiled once, here, as
// it downloads, and each engine worker the page starts is handed the compiled module.
// (`cargo xtask dist` renames the files named here to their content-hashed names.)
import init, { run_app, set_engine_module } from "./kite_frontend.js";
const module = await WebAssembly.compileStreaming(fetch(new URL("./kite_frontend_bg.wasm", import.meta.url)));
await init({ module_or_path: module });
set_engine_module(new URL("./worker.js", import.meta.url).href, module);
run_app();
