"""The bundled demo UI. Your own: `desktop-app --ui mypkg.ui:build`."""
