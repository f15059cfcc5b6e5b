// A bulk send from a CSV file (phone[,text] per line; a header line is skipped): read in the
// browser, posted to /dashboard/send/bulk in batches of at most 100 rows and ~48 KB, one after
// the other, with the progress shown as each batch is answered. A batch over the account's
// rate limit waits as long as the gateway says, then goes again.
(function () {
  var BATCH_ROWS = 100;
  var BATCH_BYTES = 48 * 1024;

  function parseCsv(text) {
    var rows = [], row = [], cell = "", quoted = false;
    for (var i = 0; i < text.length; i++) {
      var ch = text[i];
      if (quoted) {
        if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; }
        else if (ch === '"') { quoted = false; }
        else { cell += ch; }
      } else if (ch === '"') { quoted = true; }
      else if (ch === "," || ch === ";") { row.push(cell); cell = ""; }
      else if (ch === "\n" || ch === "\r") {
        if (ch === "\r" && text[i + 1] === "\n") { i++; }
        row.push(cell); rows.push(row); row = []; cell = "";
      } else { cell += ch; }
    }
    if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
    return rows.filter(function (r) { return r.length && r[0].trim() !== ""; })
      .map(function (r) { return r.length > 1 ? [r[0].trim(), r.slice(1).join(",")] : [r[0].trim()]; });
  }

  function batches(rows) {
    var found = [], current = [], size = 0;
    rows.forEach(function (r) {
      var bytes = encodeURIComponent(JSON.stringify(r)).length;
      if (current.length && (current.length >= BATCH_ROWS || size + bytes > BATCH_BYTES)) {
        found.push(current); current = []; size = 0;
      }
      current.push(r); size += bytes;
    });
    if (current.length) { found.push(current); }
    return found;
  }

  function sleep(seconds) { return new Promise(function (ok) { setTimeout(ok, seconds * 1000); }); }

  async function post(form, rows) {
    var body = new URLSearchParams();
    body.set("csrf", form.elements.csrf.value);
    body.set("sender", form.elements.sender.value);
    body.set("text", form.elements.text.value);
    body.set("rows", JSON.stringify(rows));
    for (;;) {
      var answer = await fetch(form.action, { method: "POST", body: body, credentials: "same-origin" });
      var found = await answer.json().catch(function () { return { error: "HTTP " + answer.status }; });
      if (answer.status === 429 && found.retry_after) { await sleep(found.retry_after); continue; }
      if (!answer.ok) { throw new Error(found.error || "HTTP " + answer.status); }
      return found;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("bulk-form");
    if (!form) { return; }
    var bar = document.getElementById("bulk-progress");
    var said = document.getElementById("bulk-status");
    var refusedList = document.getElementById("bulk-refused");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var file = form.elements.file.files[0];
      if (!file) { return; }
      var rows = parseCsv(await file.text());
      if (rows.length && !/^\+?\d/.test(rows[0][0])) { rows.shift(); }  // a header line
      var parts = batches(rows);
      var done = 0, accepted = 0, refused = 0;
      form.elements.go.disabled = true;
      refusedList.replaceChildren();
      bar.max = rows.length; bar.value = 0;
      said.textContent = "Sending " + rows.length + " rows in " + parts.length + " batches…";
      try {
        for (var i = 0; i < parts.length; i++) {
          var answer = await post(form, parts[i]);
          done += parts[i].length; accepted += answer.accepted; refused += answer.rejected.length;
          answer.rejected.forEach(function (r) {
            var item = document.createElement("li");
            item.textContent = r[0] + ": " + r[1];
            refusedList.appendChild(item);
          });
          bar.value = done;
          said.textContent = done + " of " + rows.length + " rows sent (batch " + (i + 1) + " of " +
            parts.length + "): " + accepted + " accepted, " + refused + " refused.";
        }
        said.textContent = "Done: " + accepted + " accepted, " + refused + " refused, of " +
          rows.length + " rows in " + parts.length + " batches.";
      } catch (error) {
        said.textContent = "Stopped after " + done + " of " + rows.length + " rows: " + error.message;
      } finally {
        form.elements.go.disabled = false;
      }
    });
  });
})();
