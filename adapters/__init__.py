"""Framework adapters, installed as ``xinit.adapters``.

The torch adapter (``xinit.adapters.torch``) and the Flax adapter
(``xinit.adapters.flax``) live here; importing ``xinit`` never imports them or
their frameworks.
"""
