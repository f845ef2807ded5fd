// The review seal (监审印章) in the member's browser: the key is made here or imported
// from a `gongkai keys generate --kind cosigner` file, kept in IndexedDB as a
// non-extractable WebCrypto key, and never sent anywhere. The review form is signed
// here: the statement is built from the content shown on the page, in the layout of
// ledger/seal/review_seal.py (known answers: tests/vectors/review_seal_v1.json). The
// chair seals the log's latest checkpoint with the same key (cosignature/v1), once the
// browser has checked that it extends the last checkpoint this key sealed.
import {
  base64Decode,
  base64Encode,
  concat,
  cosignatureMessage,
  equal,
  hexEncode,
  parseCheckpoint,
  parseNote,
  sha256,
  statementOf,
  u64,
  verifyConsistency,
} from "/portal/verify.js";

const DB_NAME = "gongkai-seal";
const STORE = "keys";
const COSIGNER_TYPE = 0x04;
// PKCS #8 of an Ed25519 private key (RFC 8410 §7): this prefix, then the 32-byte seed.
const PKCS8_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65,
  0x70, 0x04, 0x22, 0x04, 0x20];
const encoder = new TextEncoder();

function openStore() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "name" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore(mode, act) {
  const db = await openStore();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const request = act(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
  });
}

const allKeys = () => withStore("readonly", (s) => s.getAll());
const keepKey = (record) => withStore("readwrite", (s) => s.put(record));

// The verifier key: <name>+<hex key ID>+<base64Encode(0x04 || public key)>, the key ID being
// SHA-256(name || 0x0A || 0x04 || public key)[:4] (C2SP signed-note).
async function vkeyOf(name, publicKey) {
  const typed = concat(Uint8Array.of(COSIGNER_TYPE), publicKey);
  const id = (await sha256(concat(encoder.encode(name + "\n"), typed))).slice(0, 4);
  return { ref: `${name}+${hexEncode(id)}`, vkey: `${name}+${hexEncode(id)}+${base64Encode(typed)}` };
}

async function generate(name) {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const { ref, vkey } = await vkeyOf(name, publicKey);
  await keepKey({ name, ref, vkey, privateKey: pair.privateKey });
  return vkey;
}

// PRIVATE+KEY+<name>+<hex key ID>+<base64Encode(0x04 || seed)>: the seed is imported once
// extractable, only to read its public key, then kept non-extractable.
async function importFile(text) {
  const line = text.trim();
  const match = /^PRIVATE\+KEY\+(.+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(line);
  if (!match) throw new Error("not a gongkai key file (PRIVATE+KEY+name+id+key)");
  const [, name, id, encoded] = match;
  const raw = base64Decode(encoded);
  if (raw.length !== 33 || raw[0] !== COSIGNER_TYPE) {
    throw new Error("not a cosigner key (type 0x04): make one with --kind cosigner");
  }
  const der = concat(Uint8Array.from(PKCS8_PREFIX), raw.slice(1));
  const once = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", once);
  const publicKey = base64Decode(jwk.x.replace(/-/g, "+").replace(/_/g, "/") + "=");
  const { ref, vkey } = await vkeyOf(name, publicKey);
  if (!ref.endsWith(`+${id}`)) throw new Error("the key file's key ID does not match its key");
  const privateKey = await crypto.subtle.importKey(
    "pkcs8", der, { name: "Ed25519" }, false, ["sign"]);
  await keepKey({ name, ref, vkey, privateKey });
  return vkey;
}

async function sign(ref, statement) {
  const record = (await allKeys()).find((k) => k.ref === ref);
  if (!record) return null;
  return base64Encode(new Uint8Array(await crypto.subtle.sign("Ed25519", record.privateKey, statement)));
}

function say(element, text) {
  if (element) element.textContent = text;
}

function sealTheReviewForm(form) {
  const review = JSON.parse(document.getElementById("seal-review").textContent);
  const status = document.getElementById("seal-status");
  form.addEventListener("submit", async (event) => {
    if (form.dataset.sealed === "yes") return;
    event.preventDefault();
    const outcome = form.querySelector("input[name=outcome]:checked");
    if (!outcome) return form.reportValidity();
    const stage = form.querySelector("[name=stage]").value;
    try {
      const signature = await sign(form.dataset.sealKey, await statementOf(review, stage,
        outcome.value));
      if (!signature) {
        say(status, form.dataset.noKey);
        return;
      }
      form.querySelector("[name=seal_key]").value = form.dataset.sealKey;
      form.querySelector("[name=seal_signature]").value = signature;
      form.dataset.sealed = "yes";
      form.submit();
    } catch (error) {
      say(status, `${form.dataset.failed} ${error.message}`);
    }
  });
}

async function showKeys(panel) {
  const list = panel.querySelector("[data-keys]");
  const keys = await allKeys();
  list.textContent = "";
  for (const k of keys) {
    const item = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = k.vkey;
    code.dataset.vkey = k.vkey;
    item.append(code);
    if (k.vkey === panel.dataset.registered) item.append(` ${panel.dataset.registeredText}`);
    list.append(item);
  }
  say(panel.querySelector("[data-none]"), keys.length ? "" : panel.dataset.noneText);
}

function keyPanel(panel) {
  const status = panel.querySelector("[data-status]");
  panel.querySelector("[data-generate]").addEventListener("click", async () => {
    try {
      await generate(panel.dataset.keyName);
      say(status, panel.dataset.madeText);
    } catch (error) {
      say(status, `${panel.dataset.failedText} ${error.message}`);
    }
    await showKeys(panel);
  });
  panel.querySelector("[data-import]").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    try {
      await importFile(await file.text());
      say(status, panel.dataset.importedText);
    } catch (error) {
      say(status, `${panel.dataset.failedText} ${error.message}`);
    }
    event.target.value = "";
    await showKeys(panel);
  });
  panel.hidden = false;
  showKeys(panel);
}

// --- the chair's seal on the latest checkpoint (c2sp.org/tlog-cosignature) ----------

// Where this key's last sealed checkpoint of each log is kept: beside the key.
async function lastSealed(record, origin) {
  return (record.sealed || {})[origin] || null;
}

// 1. The checkpoint is of the log this page is about, and parses.
// 2. If this key sealed one of the log before: the new one is not smaller, one of the
//    same size has the same root, and a larger one is proven to extend it (RFC 9162
//    §2.1.4.2, with the proof the server gives, checked here).
// 3. The cosignature/v1 of the checkpoint's text at the current time, by this key.
async function cosign(data, record) {
  const note = parseNote(data.note);
  const checkpoint = parseCheckpoint(note.text);
  if (checkpoint.origin !== data.origin) throw new Error(data.messages.other_log);
  const last = await lastSealed(record, checkpoint.origin);
  if (last) {
    const oldRoot = base64Decode(last.root);
    if (checkpoint.size < last.size) throw new Error(data.messages.older);
    let path = [];
    if (checkpoint.size > last.size) {
      const response = await fetch(`${data.consistency}?from=${last.size}&to=${checkpoint.size}`);
      if (!response.ok) throw new Error(data.messages.no_proof);
      path = (await response.json()).hashes.map(base64Decode);
    }
    await verifyConsistency(last.size, checkpoint.size, oldRoot, checkpoint.root, path);
  }
  const now = Math.floor(Date.now() / 1000);
  const message = cosignatureMessage(now, note.text);
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", record.privateKey,
    message));
  const keyId = hexDecodeRef(record.ref);
  const line = `\u2014 ${record.name} ${base64Encode(concat(keyId, u64(now), signature))}\n`;
  return { line, checkpoint };
}

function hexDecodeRef(ref) {
  const id = ref.slice(ref.lastIndexOf("+") + 1);
  return Uint8Array.from(id.match(/../g), (h) => parseInt(h, 16));
}

function checkpointPanel(panel) {
  const data = JSON.parse(document.getElementById("checkpoint-data").textContent);
  const status = panel.querySelector("[data-status]");
  const button = panel.querySelector("[data-cosign]");
  button.addEventListener("click", async () => {
    // The last click's result is cleared at once: it must not be read as this one's.
    button.disabled = true;
    delete status.dataset.result;
    say(status, data.messages.working);
    try {
      const record = (await allKeys()).find((k) => k.ref === data.key_ref);
      if (!record) throw new Error(data.messages.no_key);
      const { line, checkpoint } = await cosign(data, record);
      const response = await fetch(data.cosignatures, { method: "POST", body: line,
        headers: { "Content-Type": "text/plain; charset=utf-8" } });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        throw new Error(problem.detail || response.statusText);
      }
      record.sealed = { ...(record.sealed || {}),
        [checkpoint.origin]: { size: checkpoint.size, root: base64Encode(checkpoint.root) } };
      await keepKey(record);
      status.dataset.result = "ok";
      say(status, data.messages.done);
    } catch (error) {
      status.dataset.result = "fail";
      say(status, `${data.messages.failed} ${error.message}`);
    } finally {
      button.disabled = false;
    }
  });
  panel.hidden = false;
}

for (const form of document.querySelectorAll("form[data-seal-key]")) sealTheReviewForm(form);
for (const panel of document.querySelectorAll("[data-seal-keys]")) keyPanel(panel);
for (const panel of document.querySelectorAll("[data-cosign-panel]")) checkpointPanel(panel);

export { statementOf, vkeyOf, importFile, generate, allKeys, keepKey, cosign, equal };
