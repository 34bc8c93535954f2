// The "Ghi nhận" view: a form for every command, generated from GET /v1/forms
// (the Cap'n Proto schema's own description, labelled in Vietnamese). Only the
// forms the principal's roles may send are offered. Units, producers,
// products, councils and criteria sets are picked by name; a scoring sheet is
// entered criterion by criterion with running part totals; a list of products
// (a results decision) is a table that takes rows pasted from Excel. Before
// sending, the form shows what will be recorded; a refusal is shown beside the
// field it names.
"use strict";
(() => {
  const { api, say, load } = OCOP;
  const { esc, fmtDate, todayVN, value, unitName, councilName } = OCOP.fmt;
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  let forms = null, common = [], subjects = null, criteria = {};

  const UNIT_FIELDS = new Set(["unit", "parent", "successor", "issuer"]);
  // Fields that name the thing a command creates: typed, not picked.
  const NEW_IDS = new Set(["DefineUnit.unit", "ConstituteCouncil.council"]);
  let currentType = "";

  // ---------------------------------------------------------- building
  function fieldId(path) { return "f-" + path.replace(/[^a-zA-Z0-9_]/g, "_"); }

  function input(f, path) {
    const id = fieldId(path);
    const attrs = `id="${id}" data-path="${esc(path)}" data-kind="${f.kind}"`;
    if (f.kind === "enum") {
      return `<select ${attrs}>${f.optional ? '<option value="">—</option>' : ""}` +
        f.values.map((v) => `<option value="${esc(v)}">${esc(value(f.name, v))}</option>`).join("") + `</select>`;
    }
    if (NEW_IDS.has(`${currentType}.${path}`)) return `<input ${attrs} placeholder="mã mới">`;
    if (f.kind === "bool") return `<input type="checkbox" ${attrs}${f.name === "mandatory_met" ? " checked" : ""}>`;
    if (f.kind === "date") return `<input type="date" ${attrs}${f.name === "effective" ? ` value="${todayVN()}"` : ""}>`;
    if (f.kind === "integer" || f.kind === "number") {
      const min = f.min !== undefined && f.min >= 0 ? ` min="${f.min}"` : "";
      return `<input type="number" inputmode="decimal" step="${f.kind === "integer" ? 1 : "any"}"${min} ${attrs}>`;
    }
    if (UNIT_FIELDS.has(f.name)) return `<select ${attrs} class="unit-picker-form">${OCOP.unitOptions(f.optional ? "—" : "Chọn đơn vị")}</select>`;
    if (f.name === "council") {
      return `<select ${attrs}><option value="">${f.optional ? "—" : "Chọn hội đồng"}</option>` +
        Object.keys(OCOP.councils).map((c) => `<option value="${esc(c)}">${esc(councilName(c))}</option>`).join("") + `</select>`;
    }
    if (f.name === "source") {
      return `<select ${attrs}>` + Object.entries((OCOP.labels.values || {}).source || {}).map(([k, v]) => `<option value="${esc(k)}">${esc(v)}</option>`).join("") + `</select>`;
    }
    if (f.name === "product") return `<input ${attrs} list="dl-products" autocomplete="off" placeholder="gõ tên hoặc mã để chọn">`;
    if (f.name === "subject") return `<input ${attrs} list="dl-subjects" autocomplete="off" placeholder="gõ tên hoặc mã để chọn">`;
    if (f.name === "set") return `<select ${attrs} class="criteria-set"><option value="">Chọn bộ tiêu chí</option></select>`;
    return `<input ${attrs}>`;
  }

  function fieldHtml(f, prefix) {
    const path = prefix + f.name;
    const opt = f.optional ? ' <span class="hint">(không bắt buộc)</span>' : "";
    if (f.kind === "struct") {
      return `<fieldset class="field" data-path="${esc(path)}" data-kind="struct"><legend>${esc(f.label)}${opt}</legend>` +
        f.fields.map((g) => fieldHtml(g, path + ".")).join("") + `</fieldset>`;
    }
    if (f.kind === "list") return itemsHtml(f, path);
    if (f.kind === "points") return sheetHtml(f, path);
    return `<div class="field" data-field="${esc(path)}"><label for="${fieldId(path)}">${esc(f.label)}${opt}</label>${input(f, path)}</div>`;
  }

  // A list of structs: a table, one row a product, that takes rows pasted
  // from a spreadsheet (tab-separated, columns in the table's order).
  function itemsHtml(f, path) {
    const cols = f.of.fields;
    return `<fieldset class="field items" data-path="${esc(path)}" data-kind="list"><legend>${esc(f.label)}</legend>` +
      `<div class="scroll"><table class="items" data-path="${esc(path)}"><thead><tr><th>#</th>${cols.map((c) => `<th>${esc(c.label)}</th>`).join("")}<th></th></tr></thead><tbody></tbody></table></div>` +
      `<div class="row"><button type="button" class="secondary add-row">Thêm dòng</button></div>` +
      `<label for="${fieldId(path)}-paste">Dán bảng từ Excel (mỗi dòng một sản phẩm, các cột: ${esc(cols.map((c) => c.label).join(", "))})</label>` +
      `<textarea id="${fieldId(path)}-paste" class="paste" placeholder="Chọn các ô trong Excel, Ctrl+C, rồi dán vào đây"></textarea></fieldset>`;
  }
  function addItemRow(table, f, values) {
    const body = $("tbody", table);
    const i = body.children.length;
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${i + 1}</td>` + f.of.fields.map((c, k) => {
      const p = `${table.dataset.path}[${i}].${c.name}`;
      return `<td data-field="${esc(p)}">${input(c, p)}</td>`;
    }).join("") + `<td><button type="button" class="secondary del-row" aria-label="Xóa dòng ${i + 1}">✕</button></td>`;
    body.appendChild(tr);
    f.of.fields.forEach((c, k) => {
      const el = $(`[data-path="${table.dataset.path}[${i}].${c.name}"]`, tr);
      if (values && values[k] !== undefined) {
        const cell = values[k].trim();
        el.value = cell;
        // A choice pasted by its Vietnamese name ("Vi phạm ...") is that choice.
        if (el.tagName === "SELECT" && el.value !== cell) {
          const o = Array.from(el.options).find((x) => x.text.toLowerCase() === cell.toLowerCase());
          if (o) el.value = o.value;
        }
      }
    });
  }
  function renumber(table) {
    $$("tbody tr", table).forEach((tr, i) => {
      tr.firstChild.textContent = i + 1;
      $$("[data-path]", tr).forEach((el) => { el.dataset.path = el.dataset.path.replace(/\[\d+\]/, `[${i}]`); el.id = fieldId(el.dataset.path); });
      $$("[data-field]", tr).forEach((el) => { el.dataset.field = el.dataset.field.replace(/\[\d+\]/, `[${i}]`); });
    });
  }
  // Rows of tab-separated cells; a first row naming the columns is skipped.
  function pasted(text, cols) {
    const lines = text.split(/\r?\n/).filter((l) => l.trim());
    const labels = cols.map((c) => c.label.toLowerCase());
    if (lines.length && lines[0].split("\t").some((c) => labels.includes(c.trim().toLowerCase()))) lines.shift();
    return lines.map((l) => l.split("\t"));
  }

  // A scoring sheet: the criteria of the set chosen, each with its maximum,
  // and the sums of each part as points are entered.
  function sheetHtml(f, path) {
    return `<fieldset class="field sheet" data-path="${esc(path)}" data-kind="points"><legend>${esc(f.label)}</legend>` +
      `<p class="hint">Chọn bộ tiêu chí ở trên; nhập điểm từng tiêu chí.</p><div class="scroll"><table class="sheet"><tbody></tbody></table></div>` +
      `<p class="totals" aria-live="polite"></p></fieldset>`;
  }
  async function fillCriteriaSets(form) {
    const sel = $("select.criteria-set", form);
    if (!sel) return;
    const on = ($('[data-path="effective"]', form) || {}).value || todayVN();
    if (!criteria[on]) criteria[on] = await api("/v1/criteria?on=" + on);
    const sets = criteria[on].sets.filter((s) => s.complete);
    const keep = sel.value;
    sel.innerHTML = '<option value="">Chọn bộ tiêu chí</option>' +
      sets.map((s) => `<option value="${esc(s.id)}">${esc(s.title.split(" (")[0])} — nhóm ${esc(s.groups.join(", "))}</option>`).join("");
    sel.value = keep;
    sel.onchange = () => drawSheet(form, sets.find((s) => s.id === sel.value));
  }
  function drawSheet(form, set) {
    const fs = $("fieldset.sheet", form);
    const body = $("tbody", fs);
    body.innerHTML = "";
    if (!set) { $(".totals", fs).textContent = ""; return; }
    const subs = Object.fromEntries((set.sub_parts || []).map((s) => [s.id, s.name_vi]));
    let lastSub = "";
    for (const c of set.criteria) {
      if (c.sub_part !== lastSub) {
        lastSub = c.sub_part;
        body.insertAdjacentHTML("beforeend", `<tr><th colspan="3">${esc(c.sub_part)} — ${esc(subs[c.sub_part] || "")}</th></tr>`);
      }
      const p = `${fs.dataset.path}.${c.id}`;
      body.insertAdjacentHTML("beforeend", `<tr><td>${esc(c.id)}${c.hard ? " *" : ""}</td><td><label for="${fieldId(p)}">${esc(c.text_vi)}</label></td>` +
        `<td data-field="${esc(p)}"><input type="number" min="0" max="${c.max}" step="any" id="${fieldId(p)}" data-criterion="${esc(c.id)}" data-part="${esc(c.part)}" data-max="${c.max}"> / ${c.max}</td></tr>`);
    }
    const totals = () => {
      const sums = {};
      for (const el of $$("input[data-criterion]", fs)) sums[el.dataset.part] = (sums[el.dataset.part] || 0) + (Number(el.value) || 0);
      const all = Object.values(sums).reduce((a, b) => a + b, 0);
      $(".totals", fs).textContent = Object.entries(sums).map(([k, v]) => `Phần ${k}: ${v.toLocaleString("vi-VN")} / ${set.sums[k]}`).join(" · ") + ` · Tổng: ${all.toLocaleString("vi-VN")} / 100`;
    };
    fs.oninput = totals;
    totals();
  }

  // ---------------------------------------------------------- reading
  function readValue(el, kind) {
    if (kind === "bool") return el.checked;
    const v = el.value.trim();
    if (v === "") return undefined;
    if (kind === "integer" || kind === "number") return Number(v.replace(",", "."));
    if (el.getAttribute("list") === "dl-products" || el.getAttribute("list") === "dl-subjects") return v.split(" — ")[0].trim();
    return v;
  }
  function readFields(fields, prefix, form) {
    const out = {};
    for (const f of fields) {
      const path = prefix + f.name;
      let v;
      if (f.kind === "struct") {
        v = readFields(f.fields, path + ".", form);
        if (!Object.keys(v).length) v = undefined;
      } else if (f.kind === "list") {
        const table = $(`table.items[data-path="${path}"]`, form);
        v = $$("tbody tr", table).map((tr, i) => readFields(f.of.fields, `${path}[${i}].`, tr)).filter((o) => Object.keys(o).length);
      } else if (f.kind === "points") {
        const pts = {};
        $$(`fieldset[data-path="${path}"] input[data-criterion]`, form).forEach((el) => { if (el.value !== "") pts[el.dataset.criterion] = Number(el.value); });
        v = Object.keys(pts).length ? pts : undefined;
      } else {
        const el = $(`[data-path="${path}"]`, form);
        v = el ? readValue(el, f.kind) : undefined;
        if (f.kind === "bool" && f.optional && v === false && f.name !== "mandatory_met") v = undefined;
      }
      if (v !== undefined) out[f.name] = v;
    }
    return out;
  }
  function command(form, spec) {
    return Object.assign({ type: spec.type }, readFields(common, "", form), readFields(spec.fields, "", form));
  }

  // What will be recorded, in words.
  function words(v, f) {
    if (v === undefined) return "—";
    if (f.kind === "bool") return v ? "Có" : "Không";
    if (f.kind === "date") return fmtDate(v);
    if (f.kind === "enum") return value(f.name, v);
    if (UNIT_FIELDS.has(f.name)) return `${unitName(v)} (${v})`;
    if (f.name === "council") return councilName(v);
    if (f.name === "source") return value("source", v);
    if (f.name === "amount_vnd" || f.name === "cap_vnd") return OCOP.fmt.fmtVnd(v);
    return String(v);
  }
  function previewHtml(fields, obj) {
    return "<dl>" + fields.map((f) => {
      const v = obj[f.name];
      if (v === undefined) return "";
      if (f.kind === "struct") return `<dt>${esc(f.label)}</dt><dd>${previewHtml(f.fields, v)}</dd>`;
      if (f.kind === "list") return `<dt>${esc(f.label)} (${v.length})</dt><dd><ol>${v.map((it) => `<li>${esc(f.of.fields.map((c) => `${c.label}: ${words(it[c.name], c)}`).join("; "))}</li>`).join("")}</ol></dd>`;
      if (f.kind === "points") return `<dt>${esc(f.label)}</dt><dd>${esc(Object.entries(v).map(([k, p]) => `${k}: ${p}`).join(", "))}</dd>`;
      return `<dt>${esc(f.label)}</dt><dd>${esc(words(v, f))}</dd>`;
    }).join("") + "</dl>";
  }
  function preview(form, spec) {
    const c = command(form, spec);
    const box = $("#preview");
    box.hidden = false;
    box.innerHTML = `<h3>Sẽ ghi vào sổ cái: ${esc(spec.title)}</h3>` + previewHtml(common.concat(spec.fields), c) +
      `<details><summary>Bản ghi dạng JSON</summary><pre>${esc(JSON.stringify(c, null, 1))}</pre></details>`;
    return c;
  }

  // ---------------------------------------------------------- refusals beside fields
  function clearErrors(form) {
    $$(".field-error", form).forEach((e) => e.remove());
    $$(".invalid", form).forEach((e) => e.classList.remove("invalid"));
  }
  // The server names the field a refusal is about (`field`, a path such as
  // "items[4].product" or "decision.issuer"): the message is shown beside it.
  // A refusal of the act as a whole names none and stays in the view's line.
  function showRefusal(form, err) {
    clearErrors(form);
    const path = err.field || "";
    // The field itself, or else the nearest enclosing part the form has: a
    // table's row ("items[4]"), a group ("decision").
    let holder = null;
    const up = (p) => { const q = p.replace(/(\.[^.]*|\[\d+\])$/, ""); return q === p ? "" : q; };
    for (let p = path; p && !holder; p = up(p)) {
      holder = $(`[data-field="${p}"]`, form) || $(`[data-path="${p}"]`, form)?.closest("[data-field], fieldset") ||
        $(`[data-field^="${p}."]`, form)?.closest("tr");
    }
    if (!holder) return false;
    holder.classList.add("invalid");
    const p = document.createElement("p");
    p.className = "field-error";
    p.setAttribute("role", "alert");
    p.textContent = err.message;
    holder.appendChild(p);
    return true;
  }

  // ---------------------------------------------------------- the view
  function build(spec) {
    currentType = spec.type;
    const form = $("#command-form");
    // The fields every command carries but an office rarely sets (an
    // idempotency key, an expected version) are folded away.
    const [usual, rare] = [common.filter((f) => !f.optional), common.filter((f) => f.optional)];
    form.innerHTML = usual.concat(spec.fields).map((f) => fieldHtml(f, "")).join("") +
      (rare.length ? `<details><summary>Tùy chọn nâng cao</summary>${rare.map((f) => fieldHtml(f, "")).join("")}</details>` : "") +
      `<div class="row"><button type="button" id="do-preview" class="secondary">Xem trước</button><button type="submit" id="do-submit">Ghi vào sổ cái</button></div>`;
    form.dataset.type = spec.type;
    $("#preview").hidden = true;
    for (const f of spec.fields.filter((x) => x.kind === "list")) {
      const table = $(`table.items[data-path="${f.name}"]`, form);
      addItemRow(table, f);
      $(".add-row", table.closest("fieldset")).onclick = () => addItemRow(table, f);
      table.onclick = (ev) => { if (ev.target.classList.contains("del-row")) { ev.target.closest("tr").remove(); renumber(table); } };
      $("textarea.paste", table.closest("fieldset")).onpaste = (ev) => {
        ev.preventDefault();
        const rows = pasted((ev.clipboardData || window.clipboardData).getData("text"), f.of.fields);
        loadRows(table, f, rows);
      };
      $("textarea.paste", table.closest("fieldset")).onchange = (ev) => { if (ev.target.value.trim()) loadRows(table, f, pasted(ev.target.value, f.of.fields)); };
    }
    fillCriteriaSets(form).catch((e) => say("record", "error", e.message));
    const eff = $('[data-path="effective"]', form);
    if (eff) eff.addEventListener("change", () => fillCriteriaSets(form).catch(() => {}));
    form.oninput = (ev) => { if (ev.target.dataset.path === "product" || (ev.target.dataset.path || "").endsWith(".product")) suggestProducts(ev.target.value); };
    $("#do-preview").onclick = () => preview(form, spec);
    form.onsubmit = (ev) => { ev.preventDefault(); submit(form, spec); };
  }
  function loadRows(table, f, rows) {
    $("tbody", table).innerHTML = "";
    rows.forEach((cells) => addItemRow(table, f, cells));
    const ta = $("textarea.paste", table.closest("fieldset"));
    ta.value = "";
    say("record", "ok", `Đã nhận ${rows.length} dòng từ bảng dán vào; kiểm tra rồi bấm Xem trước.`);
  }
  let suggestTimer = null;
  function suggestProducts(text) {
    clearTimeout(suggestTimer);
    if (text.length < 2) return;
    suggestTimer = setTimeout(async () => {
      try {
        const data = await api("/v1/products?limit=30&q=" + encodeURIComponent(text.split(" — ")[0]));
        $("#dl-products").innerHTML = data.rows.map((r) => `<option value="${esc(r.product)} — ${esc(r.name)}">${esc(r.subject_name)}, ${esc(r.unit_name)}</option>`).join("");
      } catch (e) { /* suggestions only */ }
    }, 200);
  }
  async function submit(form, spec) {
    const c = preview(form, spec);
    clearErrors(form);
    $("#do-submit").disabled = true;
    say("record", "loading", "Đang ghi…");
    try {
      const r = await api("/v1/commands", { method: "POST", body: c });
      const link = c.product ? ` <a href="#/product/${encodeURIComponent(c.product)}">Xem sản phẩm</a>` : "";
      say("record", "ok", `Đã ghi vào sổ cái: ${spec.title}${r.duplicate ? " (đã ghi trước đó, không ghi lại)" : ""} — bản ghi #${r.seqs.join(", #")}.`);
      if (link) $("#record > .msg").insertAdjacentHTML("beforeend", link);
    } catch (e) {
      const beside = e.status >= 400 && e.status < 500 && showRefusal(form, e);
      say("record", "error", beside ? "Chưa ghi được: xem thông báo bên cạnh ô được nêu." : e.message);
    } finally {
      $("#do-submit").disabled = false;
    }
  }

  async function open(type) {
    await load("record", async (live) => {
      if (!forms) {
        const [data, subs] = await Promise.all([api("/v1/forms"), api("/v1/subjects")]);
        forms = data;
        common = data.common;
        subjects = subs.rows;
      }
      if (!live()) return;
      if (!$("#dl-products")) document.body.insertAdjacentHTML("beforeend", '<datalist id="dl-products"></datalist><datalist id="dl-subjects"></datalist>');
      $("#dl-subjects").innerHTML = subjects.map((s) => `<option value="${esc(s.subject)} — ${esc(s.name)}">${esc(unitName(s.unit))}</option>`).join("");
      const offered = forms.forms.filter((f) => f.offered);
      const sel = $("#form-type");
      sel.innerHTML = offered.map((f) => `<option value="${esc(f.type)}">${esc(f.title)}</option>`).join("");
      if (!offered.length) {
        $("#command-form").innerHTML = "";
        say("record", "empty", "Tài khoản này không có quyền ghi nhận việc nào (chỉ xem).");
        return;
      }
      const spec = offered.find((f) => f.type === type) || offered[0];
      sel.value = spec.type;
      build(spec);
      say("record", "info", `${offered.length} loại việc tài khoản này được ghi nhận. Mục có dấu * trong phiếu chấm là tiêu chí bắt buộc.`);
    });
  }
  $("#form-type").onchange = () => { location.hash = "#/record/" + $("#form-type").value; };
  document.addEventListener("ocop-signed-in", () => { forms = null; });
  OCOP.addView("record", { route: (q, rest) => open(rest) });
  OCOP.forms = { pasted, command: () => command($("#command-form"), forms.forms.find((f) => f.type === $("#command-form").dataset.type)) };
})();
