// Passkeys (WebAuthn): Add a passkey on My account, and Use a passkey at the second sign-in step.
// The server sends options as JSON with binary fields in base64url; this converts them for
// navigator.credentials, and the answer back. Every POST carries the page's CSRF token.
(function () {
  "use strict";

  function toBuffer(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var binary = atob(b64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // WebIDL refuses null where a member is optional: drop nulls, keep the rest.
  function withoutNulls(value) {
    if (Array.isArray(value)) { return value.map(withoutNulls); }
    if (value && typeof value === "object") {
      var out = {};
      Object.keys(value).forEach(function (k) {
        if (value[k] !== null) { out[k] = withoutNulls(value[k]); }
      });
      return out;
    }
    return value;
  }

  function withIds(list) {
    return (list || []).map(function (c) { c.id = toBuffer(c.id); return c; });
  }

  function token(form) {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  // The server answers JSON ({"error": ...} on failure); other failures are pages.
  function read(response) {
    var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
    var body = json ? response.json() : Promise.resolve({});
    return body.then(function (data) {
      if (response.ok) { return data; }
      var message = data.error || (response.status === 403
        ? "This page has expired. Reload it and try again."
        : "Roster could not complete this step (" + response.status + "). Reload the page and try again.");
      throw new Error(message);
    });
  }

  function postForm(form, url) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: new URLSearchParams(new FormData(form))
    }).then(read);
  }

  function postJson(form, url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-CSRF-Token": token(form)
      },
      body: JSON.stringify(data)
    }).then(read);
  }

  function refusal(error) {
    if (error && error.name === "NotAllowedError") {
      return "The passkey request was cancelled or timed out. Try again.";
    }
    if (error && error.name === "InvalidStateError") {
      return "This passkey is already registered with Roster.";
    }
    return (error && error.message) || "The passkey step failed. Try again.";
  }

  function attestation(cred) {
    return {
      id: cred.id,
      rawId: toText(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toText(cred.response.attestationObject),
        clientDataJSON: toText(cred.response.clientDataJSON)
      },
      extensions: cred.getClientExtensionResults()
    };
  }

  function assertion(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toText(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toText(r.authenticatorData),
        clientDataJSON: toText(r.clientDataJSON),
        signature: toText(r.signature),
        userHandle: r.userHandle ? toText(r.userHandle) : null
      },
      extensions: cred.getClientExtensionResults()
    };
  }

  function register(options) {
    var pk = withoutNulls(options).publicKey;
    pk.challenge = toBuffer(pk.challenge);
    pk.user.id = toBuffer(pk.user.id);
    pk.excludeCredentials = withIds(pk.excludeCredentials);
    return navigator.credentials.create({ publicKey: pk }).then(attestation);
  }

  function authenticate(options) {
    var pk = withoutNulls(options).publicKey;
    pk.challenge = toBuffer(pk.challenge);
    pk.allowCredentials = withIds(pk.allowCredentials);
    return navigator.credentials.get({ publicKey: pk }).then(assertion);
  }

  // The recovery codes made with a first factor, shown once in place of the form.
  function showCodes(form, codes, next) {
    var box = document.getElementById("passkey-codes");
    box.querySelector("a").href = next;
    var list = box.querySelector("ul");
    list.replaceChildren.apply(list, codes.map(function (code) {
      var item = document.createElement("li");
      var text = document.createElement("code");
      text.className = "recovery-code";
      text.textContent = code;
      item.appendChild(text);
      return item;
    }));
    form.hidden = true;
    box.hidden = false;
  }

  // A form whose submit runs a ceremony: its action gives the options, data-finish takes the
  // answer and names the page to go to.
  function wire(form, ceremony) {
    var button = form.querySelector("button[type=submit]");
    var status = form.querySelector("[role=status]");
    function say(text) { if (status) { status.textContent = text; } }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say("This browser does not support passkeys.");
      return;
    }
    button.disabled = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      say("Follow your browser's prompt…");
      postForm(form, form.action)
        .then(ceremony)
        .then(function (answer) { return postJson(form, form.getAttribute("data-finish"), answer); })
        .then(function (next) {
          if (next.codes) { showCodes(form, next.codes, next.redirect); } else { window.location.assign(next.redirect); }
        })
        .catch(function (error) { say(refusal(error)); button.disabled = false; });
    });
  }

  var add = document.getElementById("passkey-add");
  if (add) { wire(add, register); }
  var use = document.getElementById("passkey-signin");
  if (use) { wire(use, authenticate); }
})();
