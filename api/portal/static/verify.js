// gongkai's verifier in the reader's browser.
//
// The verify page embeds the latest signed checkpoint (a C2SP signed note), the verifier
// keys of the log and of its cosigners, and, on an item's proof page, the chain entries of
// the item's versions. This script checks, with WebCrypto and nothing else:
//
//   1. the checkpoint's signatures: the log's (Ed25519, c2sp.org/signed-note type 0x01)
//      and each cosigner's (c2sp.org/tlog-cosignature, cosignature/v1, type 0x04);
//   2. for each entry, its inclusion proof (fetched from this site) against the
//      checkpoint's root, following RFC 9162 section 2.1.3.2 step by step;
//   3. where the page may show the entry as stored (readers who see the unmasked record),
//      that the entry hash recomputed from those bytes (ledger/chain.py, layout v1) is
//      the one proven, and that the title and body shown are the ones in those bytes.
//
// It trusts nothing the server says without checking it, except the keys themselves: the
// page shows their IDs so that a reader can compare them with those printed on the board.
// The functions are exported so that the browser tests can run them on the known-answer
// vectors in tests/vectors/.

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export class VerifyError extends Error {}

// --- bytes ------------------------------------------------------------------------------

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function base64Encode(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

// Canonical base64 only (padded, unused bits zero), as ledger/note.py insists: each note
// then has exactly one spelling.
export function base64Decode(text) {
  if (!BASE64.test(text)) throw new VerifyError(`not base64: ${text.slice(0, 40)}`);
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  if (base64Encode(bytes) !== text) throw new VerifyError("base64 that is not canonical");
  return bytes;
}

export function hexDecode(hex) {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new VerifyError(`not lowercase hex: ${hex}`);
  return Uint8Array.from(hex.match(/../g) || [], (h) => parseInt(h, 16));
}

export function hexEncode(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// A u64 from a decimal string or a safe integer: a JSON number past 2^53 has already
// lost digits, so the page sends big ones as strings and a lossy one is refused.
export function u64(value) {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new VerifyError(`${value} is not an exact integer`);
  }
  if (typeof value === "string" && !/^(0|[1-9][0-9]*)$/.test(value)) {
    throw new VerifyError(`not a decimal integer: ${value}`);
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

function u32(value) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// --- RFC 6962 / 9162 Merkle hashing and inclusion ---------------------------------------

// RFC 6962 section 2.1: leaves are hashed with a 0x00 prefix, interior nodes with 0x01.
export async function leafHash(data) {
  return sha256(concat(Uint8Array.of(0), data));
}

async function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

// RFC 9162 section 2.1.3.2: the root that an inclusion proof of the leaf with hash
// `leaf`, at `index` in a tree of `size` leaves, leads to. BigInt throughout: JavaScript's
// bitwise operators work on 32 bits, and tree sizes may pass 2^32.
export async function rootFromInclusionProof(index, size, leaf, path) {
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  // 1. Compare leaf_index against tree_size: fail if leaf_index >= tree_size.
  if (fn > sn) throw new VerifyError(`leaf ${index} is not in a tree of size ${size}`);
  // 2. Set fn to leaf_index and sn to tree_size - 1 (done above).
  // 3. Set r to the leaf's hash.
  let r = leaf;
  // 4. For each value p in the inclusion path:
  for (const p of path) {
    // 4a. If sn is 0, the path is too long: fail.
    if (sn === 0n) throw new VerifyError("the inclusion proof is too long");
    // 4b. If LSB(fn) is set, or fn equals sn:
    if ((fn & 1n) === 1n || fn === sn) {
      // 4b.1. r = HASH(0x01 || p || r);
      r = await nodeHash(p, r);
      // 4b.2. if LSB(fn) is not set, shift fn and sn right until LSB(fn) is set or fn
      // is 0.
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      // Otherwise r = HASH(0x01 || r || p).
      r = await nodeHash(r, p);
    }
    // 4c. Shift fn and sn right by one.
    fn >>= 1n;
    sn >>= 1n;
  }
  // 5. sn must now be 0 (else the path was too short); the caller compares r and the root.
  if (sn !== 0n) throw new VerifyError("the inclusion proof is too short");
  return r;
}

export async function verifyInclusion(index, size, leaf, path, root) {
  const computed = await rootFromInclusionProof(index, size, leaf, path);
  if (!equal(computed, root)) {
    throw new VerifyError("the proof leads to another root than the checkpoint's");
  }
}

// RFC 9162 section 2.1.4.2: whether `path` proves that the tree of `oldSize` leaves with
// root `oldRoot` is a prefix of the tree of `newSize` leaves with root `newRoot`.
export async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, path) {
  const first = BigInt(oldSize);
  const second = BigInt(newSize);
  if (first > second) throw new VerifyError("a log never shrinks");
  if (first === second) {
    if (path.length !== 0 || !equal(oldRoot, newRoot)) {
      throw new VerifyError("two checkpoints of one size with different roots");
    }
    return;
  }
  if (first === 0n) return; // every tree extends the empty one
  // 1. If consistency_path is an empty array, stop and fail.
  if (path.length === 0) throw new VerifyError("an empty consistency proof");
  // 2. If first is an exact power of 2, prepend first_hash to consistency_path.
  const steps = (first & (first - 1n)) === 0n ? [oldRoot, ...path] : [...path];
  // 3. Set fn to first - 1 and sn to second - 1.
  let fn = first - 1n;
  let sn = second - 1n;
  // 4. If LSB(fn) is set, right-shift fn and sn equally until LSB(fn) is not set.
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  // 5. Set both fr and sr to the first value in the consistency_path array.
  let fr = steps[0];
  let sr = steps[0];
  // 6. For each subsequent value c in the consistency_path array:
  for (const c of steps.slice(1)) {
    // 6a. If sn is 0, stop and fail.
    if (sn === 0n) throw new VerifyError("the consistency proof is too long");
    // 6b. If LSB(fn) is set, or fn equals sn:
    if ((fn & 1n) === 1n || fn === sn) {
      // 6b.1. fr = HASH(0x01 || c || fr), sr = HASH(0x01 || c || sr);
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      // 6b.2. if LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn
      // is 0.
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      // Otherwise sr = HASH(0x01 || sr || c).
      sr = await nodeHash(sr, c);
    }
    // 6c. Right-shift fn and sn one time.
    fn >>= 1n;
    sn >>= 1n;
  }
  // 7. Succeed only if fr is first_hash, sr is second_hash and sn is 0.
  if (sn !== 0n || !equal(fr, oldRoot) || !equal(sr, newRoot)) {
    throw new VerifyError("the consistency proof does not join the two roots");
  }
}

// --- gongkai's hash chain (ledger/chain.py, version 1) ----------------------------------

// SHA-256("gongkai/chain/v1/entry\n" || u64 seq || prev_hash || originator_id ||
// u64 originator_version || u32 len(topic) || topic || u32 len(state) || state).
export async function entryHash(entry) {
  const originator = hexDecode(entry.originator_id);
  const prev = hexDecode(entry.prev_hash);
  if (originator.length !== 16 || prev.length !== 32) {
    throw new VerifyError("an entry's originator is 16 bytes and its prev_hash 32");
  }
  const topic = encoder.encode(entry.topic);
  const state = base64Decode(entry.state);
  return sha256(
    concat(
      encoder.encode("gongkai/chain/v1/entry\n"),
      u64(entry.seq),
      prev,
      originator,
      u64(entry.originator_version),
      u32(topic.length),
      topic,
      u32(state.length),
      state,
    ),
  );
}

// --- C2SP signed notes, checkpoints and cosignatures ------------------------------------

const SIGNATURE_LINE = /^\u2014 (\S+) (\S+)$/;

// c2sp.org/signed-note: the text (ending in a newline), a blank line, then one
// "— <name> <base64(key ID || signature)>" line per signature.
export function parseNote(note) {
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new VerifyError("not a signed note");
  const text = note.slice(0, split + 1);
  const signatures = note
    .slice(split + 2, -1)
    .split("\n")
    .map((line) => {
      const match = SIGNATURE_LINE.exec(line);
      if (!match) throw new VerifyError(`not a signature line: ${line}`);
      const raw = base64Decode(match[2]);
      if (raw.length < 5) throw new VerifyError("a signature is too short");
      return { name: match[1], keyId: raw.slice(0, 4), signature: raw.slice(4) };
    });
  return { text, signatures };
}

// c2sp.org/tlog-checkpoint: origin, decimal tree size, base64 root hash, then extensions.
export function parseCheckpoint(text) {
  const lines = text.split("\n");
  if (lines.length < 4 || !/^(0|[1-9][0-9]*)$/.test(lines[1])) {
    throw new VerifyError("not a checkpoint");
  }
  const root = base64Decode(lines[2]);
  if (root.length !== 32) throw new VerifyError("a checkpoint's root is 32 bytes");
  return { origin: lines[0], size: BigInt(lines[1]), root };
}

// c2sp.org/signed-note, "Verifier keys": <name>+<hex key ID>+<base64(type || public key)>,
// the key ID being the first 4 bytes of SHA-256(name || "\n" || type || public key).
export async function parseVerifierKey(vkey) {
  // The name holds no "+", but the base64 may: split at the first two only.
  const match = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(vkey);
  if (!match) throw new VerifyError(`not a verifier key: ${vkey}`);
  const [, name, idHex, keyText] = match;
  const raw = base64Decode(keyText);
  const type = raw[0];
  if ((type !== 0x01 && type !== 0x04) || raw.length !== 33) {
    throw new VerifyError(`not an Ed25519 key of type 0x01 or 0x04: ${vkey}`);
  }
  const publicKey = raw.slice(1);
  const digest = await sha256(concat(encoder.encode(name + "\n"), raw));
  const keyId = digest.slice(0, 4);
  if (hexEncode(keyId) !== idHex) throw new VerifyError(`the key ID of ${name} does not match`);
  return { name, keyId, type, publicKey, vkey };
}

// Whether this browser's WebCrypto does Ed25519 (Chromium 137+, Firefox 129+, Safari 17+).
export async function ed25519Supported() {
  try {
    await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "Ed25519" }, false, [
      "verify",
    ]);
    return true;
  } catch {
    return false;
  }
}

async function ed25519Verify(publicKey, signature, message) {
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, [
    "verify",
  ]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}

// The signed message of a cosignature (c2sp.org/tlog-cosignature): the header, the time,
// then the checkpoint's text.
export function cosignatureMessage(timestamp, text) {
  return encoder.encode(`cosignature/v1\ntime ${timestamp}\n${text}`);
}

// Checks every signature of `note` by `key`: true if there is at least one and all verify,
// false if one fails, null if the key did not sign the note. As the spec asks, a
// signature is the key's only when both its name and key ID match.
export async function verifyNoteSignature(note, key) {
  const mine = note.signatures.filter((s) => s.name === key.name && equal(s.keyId, key.keyId));
  if (mine.length === 0) return null;
  for (const s of mine) {
    let ok;
    if (key.type === 0x01) {
      ok = s.signature.length === 64 && (await ed25519Verify(key.publicKey, s.signature, encoder.encode(note.text)));
    } else {
      if (s.signature.length !== 72) return false;
      const timestamp = new DataView(s.signature.buffer, s.signature.byteOffset).getBigUint64(0);
      const message = cosignatureMessage(timestamp, note.text);
      ok = await ed25519Verify(key.publicKey, s.signature.slice(8), message);
    }
    if (!ok) return false;
  }
  return true;
}

// --- the page -----------------------------------------------------------------------------

function show(list, status, text) {
  const item = document.createElement("li");
  item.className = status;
  item.dataset.status = status;
  const mark = document.createElement("span");
  mark.className = "mark";
  mark.setAttribute("aria-hidden", "true");
  mark.textContent = { ok: "✓", fail: "✗", unknown: "?", info: "i" }[status];
  item.append(mark, " ", text);
  list.append(item);
  return status;
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

async function checkSignatures(data, note, say, results) {
  if (!(await ed25519Supported())) {
    results.push(say("unknown", data.messages.no_ed25519));
    return;
  }
  const keys = [];
  if (data.log_key) keys.push({ vkey: data.log_key, label: data.messages.log_key });
  for (const c of data.cosigners) keys.push({ vkey: c.vkey, label: c.label });
  for (const { vkey, label } of keys) {
    let outcome;
    try {
      outcome = await verifyNoteSignature(note, await parseVerifierKey(vkey));
    } catch (e) {
      outcome = false;
    }
    if (outcome === null) {
      results.push(say("unknown", fill(data.messages.not_signed, { who: label })));
    } else {
      const template = outcome ? data.messages.signed : data.messages.bad_signature;
      results.push(say(outcome ? "ok" : "fail", fill(template, { who: label })));
    }
  }
  if (data.log_key === null) results.push(say("unknown", data.messages.no_log_key));
}

async function checkEntry(data, checkpoint, noteText, entry) {
  const url = `/v1/communities/${encodeURIComponent(data.community)}/proof/inclusion?seq=${entry.seq}&tree_size=${checkpoint.size}`;
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (response.status === 404) return ["unknown", data.messages.not_sealed];
  if (!response.ok) throw new VerifyError(`HTTP ${response.status}`);
  const proof = await response.json();
  if (proof.seq !== entry.seq || BigInt(proof.tree_size) !== checkpoint.size) {
    throw new VerifyError("the proof is for another entry or checkpoint");
  }
  if (parseNote(proof.checkpoint).text !== noteText) {
    throw new VerifyError("the proof names another checkpoint than this page's");
  }
  const proven = hexDecode(proof.entry_hash);
  if (entry.stored) {
    // 3. The bytes the page shows hash to the entry the proof is for.
    if (!equal(await entryHash({ seq: entry.seq, ...entry.stored }), proven)) {
      throw new VerifyError(data.messages.content_differs);
    }
    const state = JSON.parse(decoder.decode(base64Decode(entry.stored.state)));
    if (state.title !== entry.title || state.body !== entry.body) {
      throw new VerifyError(data.messages.content_differs);
    }
  }
  // 2. The leaf RFC 6962 hashes from the entry hash (ledger/seal.py), and its path.
  const leaf = await leafHash(proven);
  if (base64Encode(leaf) !== proof.leaf_hash) throw new VerifyError("the leaf hash differs");
  const path = proof.hashes.map(base64Decode);
  await verifyInclusion(BigInt(proof.leaf_index), checkpoint.size, leaf, path, checkpoint.root);
  return ["ok", entry.stored ? data.messages.included_with_content : data.messages.included];
}

// --- review seals (ledger/seal/review_seal.py) --------------------------------------------

// The statement a committee member's review seal signs, byte for byte (known answers:
// tests/vectors/review_seal_v1.json).
export async function statementOf(review, stage, outcome) {
  const fields = [["category", review.category], ["scope", review.scope],
    ["title", review.title], ["body", review.body],
    ...review.attachments.map((a) => ["attachment", a])];
  const parts = [];
  for (const [label, value] of fields) {
    const data = encoder.encode(value);
    parts.push(encoder.encode(`${label} ${data.length}\n`), data, encoder.encode("\n"));
  }
  const content = hexEncode(await sha256(concat(...parts)));
  const lines = ["gongkai review seal v1", `community ${review.community}`,
    `disclosure ${review.disclosure}`, `version ${review.version}`, `stage ${stage}`,
    `outcome ${outcome}`, `content ${content}`];
  return encoder.encode(lines.map((l) => l + "\n").join(""));
}

// Each version's content, from the stored entries the page gives the unmasked view: a
// draft and its revisions carry every field, a correction its title, body and files.
export function versionContents(entries) {
  const contents = new Map();
  let content = null;
  for (const entry of entries) {
    if (!entry.stored) return new Map(); // the public view: no stored bytes
    const state = JSON.parse(decoder.decode(base64Decode(entry.stored.state)));
    content = { ...(content || {}), ...pick(state) };
    contents.set(entry.version, content);
  }
  return contents;
}

function pick(state) {
  const out = {};
  for (const name of ["category", "scope", "title", "body", "attachments"]) {
    if (name in state) out[name] = state[name];
  }
  return out;
}

// 1. The seal names the key registered for the reviewer when the review was recorded.
// 2. The statement is rebuilt from the version's stored content, the stage and outcome.
// 3. The signature is that key's Ed25519 signature of the statement.
export async function checkSeal(data, seal, contents) {
  const content = contents.get(seal.version);
  if (!content) return ["info", data.messages.seal_public];
  const key = await parseVerifierKey(seal.vkey);
  if (`${key.name}+${hexEncode(key.keyId)}` !== seal.seal_key) {
    return ["fail", data.messages.seal_other_key];
  }
  const statement = await statementOf(
    { community: data.community, disclosure: data.disclosure, version: seal.version,
      ...content },
    seal.stage,
    seal.outcome,
  );
  const signature = base64Decode(seal.seal_signature);
  const ok = signature.length === 64 && (await ed25519Verify(key.publicKey, signature, statement));
  return ok ? ["ok", data.messages.seal_ok] : ["fail", data.messages.seal_bad];
}

async function checkSeals(data, say, results) {
  const contents = versionContents(data.entries);
  for (const seal of data.seals || []) {
    let status;
    let text;
    try {
      [status, text] = await checkSeal(data, seal, contents);
    } catch (e) {
      [status, text] = ["fail", `${data.messages.seal_bad} ${e.message}`];
    }
    if (status !== "info") results.push(status);
    const label = fill(data.messages.seal, { who: seal.actor, version: seal.version });
    say(status, `${label}: ${text}`);
  }
}

// The last checkpoint this browser verified for a log, kept in its local storage: the next
// visit proves that the log's new checkpoint extends it, so that a server that rewrote
// or forked the record after a reader checked it is caught by that reader's own browser.
function memoryKey(origin) {
  return `gongkai:checkpoint:${origin}`;
}

function remembered(origin) {
  try {
    const kept = JSON.parse(localStorage.getItem(memoryKey(origin)) || "null");
    return kept && typeof kept.size === "string" && typeof kept.root === "string" ? kept : null;
  } catch {
    return null; // storage refused (private mode), or not ours: nothing remembered
  }
}

function remember(origin, checkpoint) {
  const kept = { size: String(checkpoint.size), root: base64Encode(checkpoint.root), at: new Date().toISOString() };
  try {
    localStorage.setItem(memoryKey(origin), JSON.stringify(kept));
  } catch {
    // Not kept: the next visit checks this checkpoint without comparing.
  }
}

async function checkExtends(data, checkpoint) {
  const kept = remembered(checkpoint.origin);
  if (!kept) return ["info", data.messages.first_visit];
  const keptSize = BigInt(kept.size);
  const keptRoot = base64Decode(kept.root);
  const when = kept.at ? kept.at.slice(0, 10) : "";
  const values = { size: kept.size, date: when };
  if (keptSize > checkpoint.size) {
    throw new VerifyError(fill(data.messages.log_shrank, values));
  }
  let path = [];
  if (keptSize !== checkpoint.size && keptSize !== 0n) {
    const url = `/v1/communities/${encodeURIComponent(data.community)}/proof/consistency?from=${keptSize}&to=${checkpoint.size}`;
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new VerifyError(`HTTP ${response.status}`);
    const proof = await response.json();
    if (String(proof.from) !== kept.size || BigInt(proof.to) !== checkpoint.size) {
      throw new VerifyError("the proof is for other sizes");
    }
    path = proof.hashes.map(base64Decode);
  }
  await verifyConsistency(keptSize, checkpoint.size, keptRoot, checkpoint.root, path);
  return ["ok", fill(data.messages.extends, values)];
}

export async function run() {
  const data = JSON.parse(document.getElementById("verify-data").textContent);
  const results = [];
  const list = document.getElementById("checks");
  const say = (status, text) => show(list, status, text);
  let note;
  let checkpoint;
  try {
    note = parseNote(data.checkpoint);
    checkpoint = parseCheckpoint(note.text);
  } catch (e) {
    results.push(say("fail", `${data.messages.bad_checkpoint} ${e.message}`));
  }
  const signatures = [];
  if (checkpoint) {
    await checkSignatures(data, note, say, signatures);
    results.push(...signatures);
    let extended;
    try {
      extended = await checkExtends(data, checkpoint);
    } catch (e) {
      extended = ["fail", `${data.messages.not_extended} ${e.message}`];
    }
    results.push(say(...extended));
    for (const entry of data.entries) {
      const row = document.getElementById(`entry-${entry.seq}`);
      let status;
      let text;
      try {
        [status, text] = await checkEntry(data, checkpoint, note.text, entry);
      } catch (e) {
        [status, text] = ["fail", `${data.messages.not_included} ${e.message}`];
      }
      results.push(status);
      const label = fill(data.messages.entry, { seq: entry.seq, version: entry.version });
      say(status, `${label}: ${text}`);
      if (row) {
        row.dataset.status = status;
        row.textContent = text;
      }
    }
  }
  await checkSeals(data, say, results);
  const verdict = document.getElementById("verdict");
  const failed = results.includes("fail");
  const overall = failed ? "fail" : results.includes("unknown") ? "unknown" : "ok";
  verdict.dataset.status = overall;
  verdict.className = `verdict ${overall}`;
  verdict.textContent = data.messages[`verdict_${overall}`];
  // Only a checkpoint whose every check passed (or could not be made only because this
  // is the first visit) is remembered, never one that failed.
  const signed = signatures.length > 0 && signatures.every((status) => status === "ok");
  if (checkpoint && !failed && signed) {
    remember(checkpoint.origin, checkpoint);
  }
}

if (typeof document !== "undefined" && document.getElementById("verify-data")) {
  run();
}
