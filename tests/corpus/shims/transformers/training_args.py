from dataclasses import dataclass, field
from typing import List, Optional, Union


@dataclass
class TrainingArguments:
    """The commonly used fields of the real dataclass (unknown keywords raise TypeError, as there)."""

    output_dir: Optional[str] = None
    overwrite_output_dir: bool = False
    do_train: bool = False
    do_eval: bool = False
    eval_strategy: str = "no"
    evaluation_strategy: Optional[str] = None
    per_device_train_batch_size: int = 8
    per_device_eval_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    learning_rate: float = 5e-5
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    num_train_epochs: float = 3.0
    max_steps: int = -1
    lr_scheduler_type: str = "linear"
    warmup_ratio: float = 0.0
    warmup_steps: int = 0
    logging_dir: Optional[str] = None
    logging_strategy: str = "steps"
    logging_steps: float = 500
    save_strategy: str = "steps"
    save_steps: float = 500
    save_total_limit: Optional[int] = None
    seed: int = 42
    data_seed: Optional[int] = None
    bf16: bool = False
    fp16: bool = False
    use_cpu: bool = False
    no_cuda: bool = False
    dataloader_drop_last: bool = False
    dataloader_num_workers: int = 0
    remove_unused_columns: bool = True
    label_names: Optional[List[str]] = None
    load_best_model_at_end: bool = False
    metric_for_best_model: Optional[str] = None
    report_to: Union[None, str, List[str]] = "none"
    run_name: Optional[str] = None
    disable_tqdm: bool = True
    optim: str = "adamw_torch"
    gradient_checkpointing: bool = False
    push_to_hub: bool = False
    label_smoothing_factor: float = 0.0

    @property
    def train_batch_size(self):
        return self.per_device_train_batch_size

    @property
    def device(self):
        import torch

        return torch.device("cpu")
