// The monthly report's print button (an inline onclick= would need 'unsafe-inline' in the CSP).
document.getElementById("rp-print").addEventListener("click", () => window.print());
