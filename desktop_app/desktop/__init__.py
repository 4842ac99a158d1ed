"""The desktop: the window and its steps on top of the runtime. The only
package that imports pywebview."""
