"""``vaelab explore``: a local web app to play with a model's latent space.

=================  ===========================================================
module             holds
=================  ===========================================================
``session``        :class:`Explorer`, what the page asks of a model (NumPy only)
``worker``         :class:`DecodeWorker`, one thread and a bounded queue
``app``            :func:`create_app`, the FastAPI application and its JSON API
``server``         :func:`serve`, uvicorn on a loopback socket, the URL, the token
``static/``        the page: one HTML file, plain JavaScript, no build step
=================  ===========================================================

FastAPI, uvicorn and python-multipart come with the ``explore`` extra
(``pip install 'vaelab[explore]'``); only ``app`` and ``server`` import them.
"""
