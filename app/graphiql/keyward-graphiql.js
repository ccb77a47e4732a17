// Keyward's GraphiQL page: GraphiQL on this server's own /graphql, with nothing kept after the tab.
//
// GraphiQL keeps queries, variables, headers, tabs and history in localStorage by default, where a
// token in the Headers tab or a password typed inline in a mutation would outlive the session.
// Here that storage is this tab's memory, header persistence is off, and the address bar never
// receives the query or its variables.
(function () {
  "use strict";

  const memory = new Map();
  const tabMemory = {
    getItem: (key) => (memory.has(key) ? memory.get(key) : null),
    setItem: (key, value) => {
      memory.set(key, String(value));
    },
    removeItem: (key) => {
      memory.delete(key);
    },
    clear: () => {
      memory.clear();
    },
    key: (index) => Array.from(memory.keys())[index] ?? null,
    get length() {
      return memory.size;
    },
  };

  const defaultQuery = [
    "# Keyward's GraphiQL, served by Keyward itself.",
    "#",
    "# Send a session or management token in the Headers tab:",
    '#   {"Authorization": "Bearer kws_..."}',
    "#",
    "# Nothing typed here is saved: queries, variables and",
    "# headers live in this tab's memory only, and are gone",
    "# when it is reloaded or closed.",
    "",
    "query Viewer {",
    "  viewer {",
    "    kind",
    "  }",
    "}",
    "",
  ].join("\n");

  const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher,
      storage: tabMemory,
      shouldPersistHeaders: false,
      defaultQuery,
    }),
  );
})();
