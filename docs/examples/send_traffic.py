"""Send iris rows to the ``iris`` endpoint, the second half shifted (drift), then their true labels.

Uses the SDK's ``predict`` and ``send_feedback`` against the server named by
``SHIPYARD_TRACKING_URI``. Bounded: 200 one-row requests on loopback.
"""

from __future__ import annotations

from iris_data import FEATURES, TARGET, split

from shipyard import Client

REQUESTS = 200

_, test = split()
rows = test.sample(n=REQUESTS, replace=True, random_state=3).reset_index(drop=True)
drifted = rows.index >= REQUESTS // 2
# Flowers measured in inches instead of centimetres upstream: the petal columns shift by 2.54x.
rows.loc[drifted, ["petal_length", "petal_width"]] *= 2.54
with Client() as client:
    answers = [client.predict("iris", rows.loc[[i], FEATURES]) for i in range(REQUESTS)]
    for answer, label in zip(answers, rows[TARGET], strict=True):
        client.send_feedback("iris", answer["request_id"], int(label))
print(f"{REQUESTS} predictions and labels sent; the last {REQUESTS // 2} were drifted")
