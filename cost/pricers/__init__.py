"""One pricer per resource family.

Each module has ``TYPES``, the CloudFormation types it prices (the others are
free or not priced: ``cost.coverage``), and ``lines(inputs)``, the lines it
adds to an estimate. ``cost.estimate.PRICERS`` lists them in the order their
lines are shown.
"""
