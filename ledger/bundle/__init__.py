"""Signed archive bundles (``gongkai-bundle/v1``): written from plain data by
:mod:`.write`, checked offline by :mod:`.verify`, with the inclusion proofs of a long
range computed in a helper process (:mod:`.proof_writer`, :mod:`.verify_proofs`)."""
