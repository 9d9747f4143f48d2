"""The constructs the stacks compose, one logical unit per module.

The folder is not called ``constructs`` so that it cannot shadow the
``constructs`` package that every CDK module imports.
"""
