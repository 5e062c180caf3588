// The query page with YASGUI; the plain form stays for browsers without JavaScript.
(function () {
  if (typeof Yasgui === "undefined") { return; }
  var form = document.getElementById("plain-query");
  var first = document.getElementById("query").value;
  var lang = document.documentElement.lang || "fi";
  var names = {
    fi: { editor: "SPARQL-kysely", endpoint: "SPARQL-rajapinnan osoite", tab: "Välilehden nimi" },
    sv: { editor: "SPARQL-fråga", endpoint: "SPARQL-gränssnittets adress", tab: "Flikens namn" },
    en: { editor: "SPARQL query", endpoint: "SPARQL endpoint address", tab: "Tab name" }
  }[lang] || { editor: "SPARQL query", endpoint: "SPARQL endpoint address", tab: "Tab name" };
  form.hidden = true;
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: "/sparql", method: "POST" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: "/sparql" }]; } },
    // No autocompleters that call prefix.cc or LOV: nothing leaves the browser.
    yasqe: { autocompleters: ["variables"], value: first },
    persistenceId: "ketju-query"
  });
  // YASGUI's markup needs a few accessibility fixes: names for its inputs, and the
  // "add tab" button moved out of the tab list (a tablist may only hold tabs).
  function mend(root) {
    root.querySelectorAll("input.autocomplete:not([aria-label])").forEach(function (input) {
      input.setAttribute("aria-label", names.endpoint);
    });
    root.querySelectorAll(".CodeMirror textarea:not([aria-label])").forEach(function (area) {
      area.setAttribute("aria-label", names.editor);
    });
    root.querySelectorAll("[role=tablist] .addTab").forEach(function (button) {
      var list = button.closest("[role=tablist]");
      var wrapper = button.parentElement === list ? button : button.parentElement;
      list.parentElement.insertBefore(wrapper, list.nextSibling);
    });
    root.querySelectorAll("[role=tab] input:not([aria-label])").forEach(function (input) {
      input.setAttribute("aria-label", names.tab);
    });
  }
  var container = document.getElementById("yasgui");
  mend(container);
  new MutationObserver(function () { mend(container); })
    .observe(container, { childList: true, subtree: true });
  document.querySelectorAll(".load-example").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      yasgui.getTab().setQuery(button.getAttribute("data-query"));
      container.scrollIntoView();
    });
  });
})();
