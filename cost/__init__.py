"""The monthly cost of each environment, priced from its synthesized templates (``make cost``).

Quantities come from the templates (task sizes and counts, schedules,
retention, which log group each container writes to, the sampling rules,
alarms, dashboards, NAT gateways, public IPs, the canary's schedule) and from
a usage profile per environment (``cost/usage.yaml``: traffic, log volume).
Prices come from one data file (``cost/prices-us-east-1.json``) that names
its region and date. A resource type that is neither priced nor known to be
free is listed as "not priced", never dropped. Free tiers are applied only
for X-Ray (they are per account, and X-Ray's decides whether dev's sampling
costs anything).
X-Ray is priced as traces recorded, or, where Transaction Search applies
(the OpenTelemetry-only path, or ``transaction_search: true`` in the usage
profile), as spans ingested into CloudWatch Logs per GB (``pricers/xray.py``);
``python -m cost --xray-path opentelemetry-collector`` prices every
environment on that path.

Where things are:

- ``templates.py``: every stack of an environment as one set of resources;
- ``usage.py`` and ``usage.yaml``: the traffic each environment is assumed to see;
- ``prices.py`` and ``prices-us-east-1.json``: the unit prices and the month's length;
- ``workload.py``: what runs and how often (the ECS services' tasks, the canary's runs);
- ``inputs.py``: all of the above, as every pricer reads it;
- ``pricers/<family>.py``: the price of one resource family, one module each;
- ``lines.py``: a line of the estimate, and the quantity-times-price arithmetic the pricers share;
- ``coverage.py``: which resource types cost nothing, and which are not priced;
- ``estimate.py``: the pricers composed into one environment's ``Estimate``;
- ``render.py``: text, markdown and JSON; ``cli.py``: ``python -m cost``.
"""
