"""`python -m desktop_app`, and the frozen executable's entry point (app.spec)."""

if __name__ == "__main__":
    import sys

    if getattr(sys, "frozen", False):
        # First, before anything else runs: in a frozen app a multiprocessing
        # child is this same executable, and without this it would start the
        # whole app again. (Unfrozen, it does nothing: not worth its 7 ms import.)
        import multiprocessing

        multiprocessing.freeze_support()

    from desktop_app.cli import main

    raise SystemExit(main())
