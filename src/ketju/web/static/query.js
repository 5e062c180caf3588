// The query page with YASGUI; the plain form stays for browsers without JavaScript.
(function () {
  if (typeof Yasgui === "undefined") { return; }
  var form = document.getElementById("plain-query");
  var first = document.getElementById("query").value;
  form.hidden = true;
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: "/sparql", method: "POST" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: "/sparql" }]; } },
    // No autocompleters that call prefix.cc or LOV: nothing leaves the browser.
    yasqe: { autocompleters: ["variables"], value: first },
    persistenceId: "ketju-query"
  });
  document.querySelectorAll(".load-example").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      yasgui.getTab().setQuery(button.getAttribute("data-query"));
      document.getElementById("yasgui").scrollIntoView();
    });
  });
})();
