// The public verification page (/verify/{product}): fetches the product's
// receipt (replay/receipt.h) and checks it here, in the browser, trusting
// nothing the server says: the checkpoint's Ed25519 signature (WebCrypto)
// against the log's verifier key, the stream-heads proof of the product's
// head in the map the checkpoint commits to, every event's inclusion in the
// checkpoint's tree (SHA-256, RFC 9162), and that the events run from version
// 1 to that head with none missing. The status shown is the ledger's reading
// of those events; `ocop verify-receipt` derives it again from them, and the
// page checks that the certificate number it names is in their bytes.
// A receipt file can be checked the same way, offline.
"use strict";

const enc = new TextEncoder();

function b64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
function hex(s) {
  if (!/^[0-9a-fA-F]{64}$/.test(s)) throw new Error("không phải mã băm: " + s);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}
function cat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
function be64(v) {
  const out = new Uint8Array(8);
  let x = BigInt(v);
  for (let i = 7; i >= 0; i--) { out[i] = Number(x & 0xffn); x >>= 8n; }
  return out;
}
function same(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// c2sp.org/signed-note: the text up to the blank line, signature lines after.
async function openCheckpoint(note, vkey) {
  // NAME+KEYID+BASE64: the base64 may itself hold '+'.
  const first = vkey.indexOf("+"), second = vkey.indexOf("+", first + 1);
  const name = vkey.slice(0, first), idHex = vkey.slice(first + 1, second);
  const keyB64 = vkey.slice(second + 1);
  const key = b64(keyB64);
  if (key[0] !== 1 || key.length !== 33) throw new Error("khóa của sổ cái không phải Ed25519");
  const id = (await sha256(cat(enc.encode(name + "\n"), key))).slice(0, 4);
  if (!same(id, hex(idHex.padEnd(64, "0")).slice(0, 4))) throw new Error("mã khóa không khớp");
  const cut = note.lastIndexOf("\n\n");
  if (cut < 0) throw new Error("không phải một ghi chú có chữ ký");
  const text = note.slice(0, cut + 1);
  let verified = false;
  for (const line of note.slice(cut + 2).split("\n")) {
    if (!line.startsWith("\u2014 ")) continue;
    const [who, sigB64] = line.slice(2).split(" ");
    const sig = b64(sigB64);
    if (who !== name || !same(sig.slice(0, 4), id)) continue;
    const k = await crypto.subtle.importKey("raw", key.slice(1), { name: "Ed25519" }, false,
                                            ["verify"]);
    verified = await crypto.subtle.verify({ name: "Ed25519" }, k, sig.slice(4), enc.encode(text));
    if (!verified) throw new Error("chữ ký của sổ cái không đúng");
  }
  if (!verified) throw new Error("ghi chú không có chữ ký của sổ cái");
  const lines = text.split("\n");
  if (lines[0] !== name) throw new Error("điểm kiểm tra của một sổ cái khác: " + lines[0]);
  const ext = lines.find((l) => l.startsWith("ocop-stream-heads "));
  if (!ext) throw new Error("điểm kiểm tra không cam kết đầu các luồng");
  return { size: BigInt(lines[1]), root: b64(lines[2]), mapRoot: b64(ext.slice(18)), key };
}

function bit(key, d) { return (key[d >> 3] >> (7 - (d & 7))) & 1; }

// ledger/stream_map.h's proof: siblings from the root down, folded with 0x03.
async function verifyHead(stream, p, mapRoot) {
  const key = await sha256(enc.encode(stream));
  if (p.stream !== stream) throw new Error("bằng chứng đầu luồng của luồng khác");
  if (p.end !== "head") throw new Error("bằng chứng cho thấy sản phẩm không có sự kiện nào");
  let h = await sha256(cat(Uint8Array.of(2), key, be64(p.version), be64(p.seq)));
  for (let i = p.siblings.length - 1; i >= 0; i--) {
    const s = hex(p.siblings[i]);
    h = await sha256(bit(key, i) ? cat(Uint8Array.of(3), s, h) : cat(Uint8Array.of(3), h, s));
  }
  if (!same(h, mapRoot)) throw new Error("đầu luồng không khớp với điểm kiểm tra đã ký");
  return { version: BigInt(p.version), seq: BigInt(p.seq) };
}

// RFC 9162 section 2.1.3.2.
async function verifyInclusion(leaf, index, size, path, root) {
  let fn = index, sn = size - 1n;
  let r = await sha256(cat(Uint8Array.of(0), leaf));
  for (const p of path.map(hex)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(cat(Uint8Array.of(1), p, r));
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await sha256(cat(Uint8Array.of(1), r, p));
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && same(r, root);
}

// seq and version of a stored event (ledger/event.capnp, a Cap'n Proto
// message of one segment: the root struct's data words 0 and 1).
function envelope(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const segments = v.getUint32(0, true) + 1;
  const start = 4 * (1 + segments + (segments % 2 === 0 ? 1 : 0));
  const ptr = v.getUint32(start, true);
  if ((ptr & 3) !== 0) throw new Error("sự kiện không đọc được");
  const data = start + 8 + 8 * (ptr >> 2);
  return { seq: v.getBigUint64(data, true), version: v.getBigUint64(data + 8, true) };
}

async function verifyReceipt(r) {
  const checks = [];
  const step = (ok, text) => { checks.push({ ok, text }); if (!ok) throw new Error(text); };
  try {
    if (r.format !== "ocop-receipt-1") step(false, "không phải biên nhận OCOP");
    const cp = await openCheckpoint(r.checkpoint, r.log_vkey);
    step(same(cp.key.slice(1), b64(r.public_key)), "chữ ký của sổ cái trên điểm kiểm tra " +
         cp.size + " đúng (Ed25519)");
    const stream = "product/" + r.product;
    const head = await verifyHead(stream, r.stream_head, cp.mapRoot);
    step(true, "điểm kiểm tra cam kết sự kiện cuối của sản phẩm: phiên bản " + head.version);
    let expect = 1n, lastSeq = 0n;
    const leaves = [];
    for (const e of r.events) {
      const leaf = b64(e.leaf);
      const env = envelope(leaf);
      if (env.version !== expect) {
        step(false, "thiếu sự kiện: phiên bản " + expect + " của sản phẩm không có trong biên nhận");
      }
      if (!(await verifyInclusion(leaf, env.seq - 1n, cp.size, e.path, cp.root))) {
        step(false, "sự kiện " + env.seq + " không nằm trong cây đã ký");
      }
      leaves.push(leaf);
      expect += 1n;
      lastSeq = env.seq;
    }
    step(expect - 1n === head.version && lastSeq === head.seq,
         expect - 1n === head.version && lastSeq === head.seq
             ? "đủ " + r.events.length + " sự kiện, mỗi sự kiện nằm trong cây đã ký"
             : "thiếu sự kiện: biên nhận dừng ở phiên bản " + (expect - 1n) + ", sổ cái ghi tới " +
                   head.version);
    const cert = r.status && r.status.certificate;
    if (cert && cert.no) {
      const needle = enc.encode(cert.no);
      const found = leaves.some((l) => {
        for (let i = 0; i + needle.length <= l.length; i++) {
          if (needle.every((b, j) => l[i + j] === b)) return true;
        }
        return false;
      });
      step(found, "số giấy chứng nhận " + cert.no + " có trong các sự kiện đã ký");
    }
    return { ok: true, checks };
  } catch (e) {
    if (!checks.length || checks[checks.length - 1].ok) checks.push({ ok: false, text: e.message });
    return { ok: false, checks };
  }
}

const STATE = { in_force: "Còn hiệu lực", lapsed: "Đã hết hạn", revoked: "Đã bị thu hồi",
                none: "Chưa được công nhận" };

function show(r, result) {
  const verdict = document.getElementById("verdict");
  verdict.className = "verdict " + (result.ok ? "ok" : "bad");
  verdict.textContent = result.ok
      ? "Đã xác minh: thông tin khớp với sổ cái OCOP đã ký"
      : "KHÔNG hợp lệ: biên nhận này không khớp với sổ cái";
  verdict.dataset.ok = String(result.ok);
  const dl = document.getElementById("status");
  dl.textContent = "";
  const s = result.ok && r.status ? r.status : null;
  const rows = s ? [["Sản phẩm", s.name + " (" + s.product + ")"],
                    ["Hạng sao", s.stars ? "★".repeat(s.stars) + " (" + s.stars + " sao)" : "—"],
                    ["Giấy chứng nhận", STATE[s.certificate_state] || s.certificate_state],
                    ["Số", s.certificate ? s.certificate.no : "—"],
                    ["Hiệu lực đến", s.certificate ? s.certificate.valid_until : "—"],
                    ["Tính đến ngày", r.as_of]] : [];
  for (const [k, v] of rows) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    dl.append(dt, dd);
  }
  const ul = document.getElementById("checks");
  ul.textContent = "";
  for (const c of result.checks) {
    const li = document.createElement("li");
    li.className = c.ok ? "ok" : "bad";
    li.textContent = c.text;
    ul.append(li);
  }
}

async function check(r) {
  show(r, await verifyReceipt(r));
}

const product = decodeURIComponent(location.pathname.replace(/^\/verify\//, "").replace(/\/$/, ""));
document.getElementById("qr").src = "/verify/" + encodeURIComponent(product) + "/qr.svg";
document.getElementById("receipt-file").addEventListener("change", async (ev) => {
  const f = ev.target.files[0];
  if (!f) return;
  let r;
  try { r = JSON.parse(await f.text()); } catch (e) { r = {}; }
  await check(r);
});
fetch("/v1/products/" + encodeURIComponent(product) + "/receipt")
    .then((res) => res.ok ? res.json() : Promise.reject(new Error("không tìm thấy sản phẩm")))
    .then(check)
    .catch((e) => show({}, { ok: false, checks: [{ ok: false, text: e.message }] }));
