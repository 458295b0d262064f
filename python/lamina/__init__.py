from lamina._lamina import *  # noqa
