"""Command-line commands, one module each (see :mod:`lpgeom.__main__`).

Every module defines ``add_parser(subparsers)``, which registers the command and sets
``run`` as the parser's default (``parser.set_defaults(run=run)``), and
``run(args) -> int``.
"""
