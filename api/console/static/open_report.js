// A reporter's identity (举报人身份) opened in the auditor's browser, with the private key
// file they keep: the key is read here and sent nowhere. ledger/sealed_identity.py seals
// it with HPKE (RFC 9180) base mode, single-shot: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// AES-128-GCM, the sealed identity being base64(enc || ciphertext). WebCrypto has no HPKE,
// so it is built here from X25519, HMAC-SHA-256 and AES-GCM (known answers:
// tests/vectors/hpke_report_identity.json).

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

const ENC_LENGTH = 32; // Nenc of DHKEM(X25519, HKDF-SHA256)
const TAG_LENGTH = 16; // Nt of AES-128-GCM
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const PEM = /^-----BEGIN PRIVATE KEY-----\s+([A-Za-z0-9+/=\s]+?)\s*-----END PRIVATE KEY-----$/;

const i2osp2 = (n) => Uint8Array.of(n >> 8, n & 0xff);
// RFC 9180 §4.1 and §5.1: the suite each labeled step is bound to.
const KEM_SUITE_ID = concat(encoder.encode("KEM"), i2osp2(0x0020));
const HPKE_SUITE_ID = concat(encoder.encode("HPKE"), i2osp2(0x0020), i2osp2(0x0001),
  i2osp2(0x0001));
const EMPTY = new Uint8Array(0);

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function base64Decode(text) {
  if (!BASE64.test(text)) throw new Error("not base64");
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

// A JWK's unpadded base64url, as base64.
const base64urlDecode = (text) => base64Decode(
  text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "="));

// The DER inside a PKCS#8 PEM file ("-----BEGIN PRIVATE KEY-----", what
// `gongkai reports keys` writes and `openssl pkey` reads).
export function parsePem(pemText) {
  const match = PEM.exec(String(pemText).trim());
  const body = match && match[1].replace(/\s+/g, "");
  if (!body || !BASE64.test(body)) {
    throw new Error("the key file is not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)");
  }
  return base64Decode(body);
}

// --- HKDF-SHA256 (RFC 5869) from HMAC: WebCrypto's HKDF does both steps at once, and
// HPKE labels each step separately. -------------------------------------------------------

async function hmac(key, data) {
  // WebCrypto refuses an empty HMAC key; RFC 5869 §2.2 takes an absent salt as HashLen
  // zeros, which HMAC pads to the same block as an empty key.
  const raw = key.length ? key : new Uint8Array(32);
  const k = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" },
    false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}

const extract = (salt, ikm) => hmac(salt, ikm);

async function expand(prk, info, length) {
  let block = EMPTY;
  let out = EMPTY;
  for (let i = 1; out.length < length; i++) {
    block = await hmac(prk, concat(block, info, Uint8Array.of(i)));
    out = concat(out, block);
  }
  return out.slice(0, length);
}

// RFC 9180 §4: LabeledExtract and LabeledExpand, "HPKE-v1" || suite_id || label.
const labeledExtract = (suiteId, salt, label, ikm) =>
  extract(salt, concat(encoder.encode("HPKE-v1"), suiteId, encoder.encode(label), ikm));

const labeledExpand = (suiteId, prk, label, info, length) =>
  expand(prk, concat(i2osp2(length), encoder.encode("HPKE-v1"), suiteId,
    encoder.encode(label), info), length);

// --- the key ----------------------------------------------------------------------------

async function importPrivateKey(pemText) {
  const der = parsePem(pemText);
  let key;
  try {
    // Extractable only so that its public key (pkRm, which Decap binds) can be read.
    key = await crypto.subtle.importKey("pkcs8", der, { name: "X25519" }, true, ["deriveBits"]);
  } catch {
    throw new Error("the key file is not an X25519 private key (PKCS#8): not a report key");
  }
  const { x } = await crypto.subtle.exportKey("jwk", key);
  return { key, publicKey: base64urlDecode(x) };
}

// --- HPKE -------------------------------------------------------------------------------

// 1. §4.1 DHKEM Decap(enc, skR): dh = DH(skR, pkE); kem_context = enc || pkRm;
//    shared_secret = ExtractAndExpand(dh, kem_context), Nsecret = 32.
async function decap(enc, skR, pkRm) {
  const pkE = await crypto.subtle.importKey("raw", enc, { name: "X25519" }, false, []);
  let dh;
  try {
    // WebCrypto refuses an all-zero result (a low-order pkE), as §7.1.4 requires.
    dh = new Uint8Array(await crypto.subtle.deriveBits({ name: "X25519", public: pkE }, skR,
      256));
  } catch {
    throw new Error("the sealed identity's encapsulated key is not a usable X25519 key");
  }
  const kemContext = concat(enc, pkRm);
  const eaePrk = await labeledExtract(KEM_SUITE_ID, EMPTY, "eae_prk", dh);
  return labeledExpand(KEM_SUITE_ID, eaePrk, "shared_secret", kemContext, 32);
}

// 2. §5.1 KeySchedule in mode_base (0x00), psk and psk_id empty: key (Nk = 16) and
//    base_nonce (Nn = 12); the exporter secret is not needed to open.
async function keySchedule(sharedSecret, info) {
  const pskIdHash = await labeledExtract(HPKE_SUITE_ID, EMPTY, "psk_id_hash", EMPTY);
  const infoHash = await labeledExtract(HPKE_SUITE_ID, EMPTY, "info_hash", info);
  const context = concat(Uint8Array.of(0x00), pskIdHash, infoHash);
  const secret = await labeledExtract(HPKE_SUITE_ID, sharedSecret, "secret", EMPTY);
  const key = await labeledExpand(HPKE_SUITE_ID, secret, "key", context, 16);
  const baseNonce = await labeledExpand(HPKE_SUITE_ID, secret, "base_nonce", context, 12);
  return { key, baseNonce };
}

// 3. §5.2 Open with seq = 0 (nonce = base_nonce XOR 0 = base_nonce) and empty aad.
async function aeadOpen(key, nonce, ciphertext) {
  const k = await crypto.subtle.importKey("raw", key, { name: "AES-GCM" }, false, ["decrypt"]);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonce,
      additionalData: EMPTY, tagLength: 128 }, k, ciphertext));
  } catch {
    // A wrong key, another report's info and a changed byte all fail the tag alike.
    throw new Error("the sealed identity does not open with this key (another key, another "
      + "report's identity, or altered)");
  }
}

// The info of ledger/sealed_identity.py's info_for: binds the identity to one report.
const infoFor = (communityId, reportId) =>
  encoder.encode(`gongkai/report-identity/v1\n${communityId}\n${reportId}`);

// The identity sealed for report `reportId` of `communityId`, opened with the private key
// file's text: { account, contact, name }.
export async function openSealed(pemText, sealedBase64, communityId, reportId) {
  const { key, publicKey } = await importPrivateKey(pemText);
  let sealed;
  try {
    sealed = base64Decode(String(sealedBase64).trim());
  } catch {
    throw new Error("the sealed identity is not base64");
  }
  if (sealed.length < ENC_LENGTH + TAG_LENGTH) {
    throw new Error("the sealed identity is too short to be one");
  }
  const enc = sealed.slice(0, ENC_LENGTH);
  const sharedSecret = await decap(enc, key, publicKey);
  const schedule = await keySchedule(sharedSecret, infoFor(communityId, reportId));
  const plain = await aeadOpen(schedule.key, schedule.baseNonce, sealed.slice(ENC_LENGTH));
  let fields;
  try {
    fields = JSON.parse(decoder.decode(plain));
  } catch {
    fields = null;
  }
  const names = ["account", "contact", "name"];
  if (!fields || !names.every((n) => typeof fields[n] === "string")) {
    throw new Error("the opened identity is not a reporter's identity");
  }
  return { account: fields.account, contact: fields.contact, name: fields.name };
}

// --- the console's reports page ------------------------------------------------------
// The key file is read once into this page's memory and never sent anywhere; each
// report's identity is opened when asked for, and shown on this page only.

function identityPanel(panel) {
  const input = panel.querySelector("input[type=file]");
  const status = panel.querySelector("[data-status]");
  let pem = null;
  input.addEventListener("change", async () => {
    const file = input.files[0];
    pem = file ? await file.text() : null;
    status.textContent = pem ? panel.dataset.loaded : "";
  });
  for (const button of document.querySelectorAll("button[data-open-report]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const out = document.getElementById(button.dataset.output);
      out.dataset.result = "";
      if (!pem) {
        out.textContent = panel.dataset.noKey;
        return;
      }
      try {
        const who = await openSealed(pem, button.dataset.sealed, panel.dataset.community,
          button.dataset.openReport);
        out.textContent = [`${panel.dataset.nameLabel}${who.name}`,
          `${panel.dataset.contactLabel}${who.contact}`,
          `${panel.dataset.accountLabel}${who.account}`].join("\n");
        out.dataset.result = "ok";
      } catch (error) {
        out.textContent = `${panel.dataset.failed} ${error.message}`;
        out.dataset.result = "fail";
      }
    });
  }
  panel.hidden = false;
}

for (const panel of document.querySelectorAll("[data-identity-panel]")) identityPanel(panel);
