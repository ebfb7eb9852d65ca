from .data_collator import DataCollatorWithPadding, default_data_collator  # noqa: F401
