"""The witness at the edge: the HTTP service the street runs (:mod:`.app`, :mod:`.cli`),
and the log's side that asks it for cosignatures (:mod:`.client`, :mod:`.submit`)."""
