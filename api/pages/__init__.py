"""Server-rendered pages: templates, view helpers and the regulator's monitoring pages."""
