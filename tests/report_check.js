// Injected into a copy of a Snakemake report by tests/test_workflow.py and run in headless
// Chromium: opens every category, shows every result as a user's click would, and writes what
// rendered into a pre element with the id hpotext-check (read back from --dump-dom).
window.addEventListener("load", async () => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const check = { categories: [], results: {}, errors: [] };
  const open = async (category) => {
    app.setView({ navbarMode: "menu" }); // back to the menu, then the category, as a user would
    await sleep(50);
    app.showCategory(category);
    await sleep(50);
  };
  try {
    await sleep(200);
    const listed = {};
    for (const [category, subcategories] of Object.entries(categories)) {
      await open(category); // first pass: every category lists its results
      check.categories.push(category);
      const menu = document.querySelector("#app").textContent;
      for (const paths of Object.values(subcategories)) {
        for (const path of paths) listed[path] = menu.includes(path);
      }
    }
    for (const [category, subcategories] of Object.entries(categories)) {
      await open(category); // second pass: show each result as a click would
      for (const paths of Object.values(subcategories)) {
        for (const path of paths) {
          const entry = results[path];
          const seen = { mime: entry.mime_type, listed: listed[path], caption: entry.caption.length };
          if (entry.mime_type.startsWith("image/")) {
            app.setView({ content: "img", contentPath: entry.data_uri, resultPath: path });
            await sleep(100);
            const img = Array.from(document.querySelectorAll("#app img")).find(
              (el) => el.getAttribute("src") === entry.data_uri
            );
            for (let i = 0; img && !img.complete && i < 50; i++) await sleep(20);
            if (img) {
              seen.width = img.naturalWidth;
              seen.height = img.naturalHeight;
            }
          } else if (entry.mime_type === "text/html") {
            app.setView({ content: "html", contentPath: entry.data_uri, resultPath: path });
            await sleep(100);
            const frame = Array.from(document.querySelectorAll("#app iframe")).find(
              (el) => el.getAttribute("src") === entry.data_uri
            );
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
