"""The subcommands of ``tuimail``, grouped by what they do; ``tuimail.cli`` gathers them."""
