// Copies the staff UI's vendor files from node_modules into static/vendor (served by Django).
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static", "vendor");
const files = {
  "bootstrap/dist/css/bootstrap.min.css": "bootstrap.min.css",
  "bootstrap/dist/js/bootstrap.bundle.min.js": "bootstrap.bundle.min.js",
  "bootstrap-icons/font/bootstrap-icons.min.css": "bootstrap-icons.min.css",
  "bootstrap-icons/font/fonts/bootstrap-icons.woff2": "fonts/bootstrap-icons.woff2",
  "bootstrap-icons/font/fonts/bootstrap-icons.woff": "fonts/bootstrap-icons.woff",
  "chart.js/dist/chart.umd.min.js": "chart.umd.min.js",
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
};
mkdirSync(join(out, "fonts"), { recursive: true });
for (const [src, dest] of Object.entries(files)) {
  cpSync(join(here, "node_modules", src), join(out, dest));
}
console.log(`copied ${Object.keys(files).length} files to static/vendor`);
