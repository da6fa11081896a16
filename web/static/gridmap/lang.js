// The language menu in the header sends its form on change (an inline onchange= handler would
// need 'unsafe-inline' in the content security policy).
document.querySelectorAll("select[data-submit-on-change]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
