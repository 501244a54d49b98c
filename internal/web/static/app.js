// Progressive enhancement only: every page works without this file.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});

// The error summary above a refused form takes the focus, so that a
// screen reader reads it first and its links lead to each field.
document.querySelectorAll("[data-error-summary]").forEach(function (summary) { summary.focus(); });

// Answers are checked as they are typed. The form asks the server, where
// the rules live (op=check saves nothing), and shows each problem at its
// field once the person has typed in or left that field. Without this
// script the same messages come back when the form is sent.
document.querySelectorAll("form[data-check]").forEach(function (form) {
  var touched = {}, timer = 0, asked = 0;
  form.querySelectorAll(".field-error[id^='err-']").forEach(function (p) {
    touched[p.id.slice(4)] = true;
  });
  function show(problems) {
    Object.keys(touched).forEach(function (key) {
      var input = document.getElementById("f-" + key);
      var field = input || form.querySelector("[data-choices='" + key + "']");
      if (!field) return;
      var err = document.getElementById("err-" + key);
      var msg = problems[key] || "";
      if (!msg) {
        if (err) err.remove();
        field.removeAttribute("aria-describedby");
        if (input) input.removeAttribute("aria-invalid");
        return;
      }
      if (!err) {
        err = document.createElement("p");
        err.className = "field-error";
        err.id = "err-" + key;
        var after = field.nextElementSibling && field.nextElementSibling.classList.contains("muted") ? field.nextElementSibling : field;
        after.after(err);
      }
      err.textContent = msg;
      field.setAttribute("aria-describedby", err.id);
      if (input) input.setAttribute("aria-invalid", "true");
    });
  }
  function check() {
    var body = new URLSearchParams(new FormData(form));
    body.set("op", "check");
    var n = ++asked;
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        var json = r.ok && (r.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        return json ? r.json() : null;
      })
      .then(function (res) { if (res && n === asked) show(res.problems || {}); })
      .catch(function () {});
  }
  function touch(e, delay) {
    if (!e.target.name || /^(hidden|submit|button)$/.test(e.target.type)) return;
    touched[e.target.name] = true;
    asked++; // an answer to an earlier question is out of date
    clearTimeout(timer);
    timer = setTimeout(check, delay);
  }
  form.addEventListener("input", function (e) { touch(e, 400); });
  form.addEventListener("change", function (e) { touch(e, 0); });
  form.addEventListener("focusout", function (e) { if (e.target.value) touch(e, 0); });
});
