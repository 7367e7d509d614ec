"""Command-line commands, one module each (see :mod:`lpgeom.__main__`).

Every module defines ``add_parser(subparsers)``, which registers the command and sets
``run`` as the parser's default (``parser.set_defaults(run=run)``), and
``run(args) -> int``. :mod:`lpgeom.cli.options` holds what they share: argument types
that refuse bad values with one line, the data, threat and device options, ``--config``.
Every option defaults to None and is filled from the paper's recipe
(:func:`lpgeom.training.paper_recipe`), so a flag given explicitly always wins.
"""
