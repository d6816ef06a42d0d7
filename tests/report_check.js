// Injected into a copy of a Snakemake report by tests/test_workflow.py and run in headless
// Chromium: opens every category, shows every result as a user's click would, and writes what
// rendered into <pre id="hpotext-check"> (read back from --dump-dom).
window.addEventListener("load", async () => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const check = { categories: [], results: {}, errors: [] };
  try {
    await sleep(200);
    for (const [category, subcategories] of Object.entries(categories)) {
      app.showCategory(category);
      await sleep(50);
      check.categories.push(category);
      for (const paths of Object.values(subcategories)) {
        for (const path of paths) {
          const entry = results[path];
          const listed = document.body.innerText.includes(entry.name);
          const seen = { mime: entry.mime_type, listed: listed, caption: entry.caption.length };
          if (entry.mime_type.startsWith("image/")) {
            app.setView({ content: "img", contentPath: entry.data_uri, resultPath: path });
            await sleep(100);
            const img = document.querySelector("#app img[src^='data:image']");
            if (img) {
              await img.decode().catch(() => {});
              seen.width = img.naturalWidth;
              seen.height = img.naturalHeight;
            }
          } else if (entry.mime_type === "text/html") {
            app.setView({ content: "html", contentPath: entry.data_uri, resultPath: path });
            await sleep(100);
            const frame = document.querySelector("#app iframe");
            seen.iframe = Boolean(frame);
            seen.text = atob(entry.data_uri.split(",")[1]);
          }
          check.results[entry.name] = seen;
        }
      }
    }
  } catch (err) {
    check.errors.push(String(err));
  }
  const out = document.createElement("pre");
  out.id = "hpotext-check";
  out.textContent = JSON.stringify(check);
  document.body.appendChild(out);
});
