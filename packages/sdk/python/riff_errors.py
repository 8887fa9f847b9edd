"""Errors a riff Python function raises to steer what riff does with the message.

    from riff_errors import NonRetriableError

    def handler(order):
        if "id" not in order:
            raise NonRetriableError("an order needs an id")   # dead-lettered at once
        ...

riff knows the error by its class name, so a class of your own called ``NonRetriableError``
works the same. Any other exception is retried ``spec.retries`` times first.
"""


class NonRetriableError(Exception):
    """Running the message again cannot help: riff sends it to the dead-letter topic at once."""
