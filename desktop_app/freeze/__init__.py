"""Freezing a developer's project into a bundle and installers (`desktop-app build`).

bundle.py runs the steps; app.spec is the one copy of the PyInstaller rules
(this repo's own app.spec only points at it); bundle_filter.py is what the spec
leaves out; make_deb packages a bundle for Debian and Ubuntu; icons.py makes each
system's icon sizes; workflow.py writes the CI workflow for the three systems.
"""
