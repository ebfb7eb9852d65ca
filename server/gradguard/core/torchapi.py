"""What gradguard knows about torch's API: which operations cut a gradient path and how.

Each cut has a *kind*; rules own kinds (GG201 detach, GG202 round trips, GG203 non-differentiable ops,
GG501 grad mode). Keep this table the single source of that knowledge.
"""
from __future__ import annotations

import re

# Tensor methods that return a value with no gradient path to the receiver.
CUT_METHODS: dict[str, str] = {
    "detach": "detach",
    "detach_": "detach",
    "numpy": "numpy",
    "item": "item",
    "tolist": "tolist",
    "long": "cast",
    "int": "cast",
    "short": "cast",
    "byte": "cast",
    "char": "cast",
    "bool": "cast",
    "argmax": "nondiff",
    "argmin": "nondiff",
    "argsort": "nondiff",
    "nonzero": "nondiff",
    "argwhere": "nondiff",
    "histc": "nondiff",
    "bincount": "nondiff",
    "count_nonzero": "nondiff",
    "eq": "compare",
    "ne": "compare",
    "gt": "compare",
    "lt": "compare",
    "ge": "compare",
    "le": "compare",
    "isnan": "compare",
    "isinf": "compare",
    "isfinite": "compare",
    "sign": "zero",
    "sgn": "zero",
    "round": "zero",
    "floor": "zero",
    "ceil": "zero",
    "trunc": "zero",
    "heaviside": "zero",
    # ``Distribution.sample()`` draws under no_grad; ``rsample()`` is the reparameterized, differentiable draw
    "sample": "sample",
    "sample_n": "sample",
}

# ``torch.distributions`` classes with no reparameterized draw (``has_rsample`` is False: ``rsample()`` raises
# NotImplementedError): their samples are discrete, so ``sample()`` has no gradient by nature, and a score-function
# estimator (``log_prob``, REINFORCE) is how their parameters train. Not a cut.
DISCRETE_DISTRIBUTIONS = frozenset(
    {"Categorical", "Bernoulli", "Binomial", "Geometric", "Multinomial", "OneHotCategorical", "Poisson", "NegativeBinomial"}
)

# torch.* functions with the same effect on their tensor arguments.
CUT_FUNCTIONS: dict[str, str] = {
    "torch.argmax": "nondiff",
    "torch.argmin": "nondiff",
    "torch.argsort": "nondiff",
    "torch.nonzero": "nondiff",
    "torch.argwhere": "nondiff",
    "torch.bucketize": "nondiff",
    "torch.searchsorted": "nondiff",
    "torch.histc": "nondiff",
    "torch.bincount": "nondiff",
    "torch.count_nonzero": "nondiff",
    "torch.multinomial": "nondiff",
    "torch.bernoulli": "nondiff",
    "torch.eq": "compare",
    "torch.ne": "compare",
    "torch.gt": "compare",
    "torch.lt": "compare",
    "torch.ge": "compare",
    "torch.le": "compare",
    "torch.isclose": "compare",
    "torch.isnan": "compare",
    "torch.sign": "zero",
    "torch.sgn": "zero",
    "torch.round": "zero",
    "torch.floor": "zero",
    "torch.ceil": "zero",
    "torch.trunc": "zero",
    "torch.heaviside": "zero",
    "torch.from_numpy": "numpy",
    "torch.tensor": "rewrap",
    "torch.Tensor": "rewrap",
    "torch.FloatTensor": "rewrap",
    "torch.LongTensor": "rewrap",
}

# Methods that give a Python int whatever they are called on and given (process ranks and sizes, a tensor's or a
# process group's size, element count, number of dimensions): their results are hyperparameters, never parameters.
INT_RESULT_METHODS = frozenset({"get_rank", "get_world_size", "get_local_rank", "get_local_world_size", "numel", "dim", "size"})

INT_DTYPES = {
    "torch.long",
    "torch.int",
    "torch.int64",
    "torch.int32",
    "torch.int16",
    "torch.int8",
    "torch.uint8",
    "torch.short",
    "torch.bool",
}

# Floating dtypes under every name torch gives them, and the dtype each cast method converts to: a cast to the dtype
# a tensor already has returns the tensor itself (a leaf stays a leaf), any other makes a differentiable copy.
FLOAT_DTYPES = {
    "torch.float32": "float32", "torch.float": "float32", "torch.float64": "float64", "torch.double": "float64",
    "torch.float16": "float16", "torch.half": "float16", "torch.bfloat16": "bfloat16",
}
CAST_METHOD_DTYPE = {"float": "float32", "double": "float64", "half": "float16", "bfloat16": "bfloat16"}
# NumPy's float functions (names after ``numpy.``): float64 from Python numbers (ints included) and from float64 arrays,
# so ``torch.tensor(np.log(1 / 0.07))`` is a float64 tensor (checked under NumPy 2 with torch 2.13).
NUMPY_FLOAT_FUNCTIONS = frozenset({  # a float64 result from Python numbers (ints included) and from float64 arrays
    "log", "log2", "log10", "log1p", "exp", "expm1", "sqrt", "sin", "cos", "tan", "tanh", "arctan", "arcsin", "arccos",
    "mean", "std", "var", "divide", "true_divide", "float64",
})
NUMPY_DTYPE_KEEPING = frozenset({  # float64 from float64 arrays only (from Python ints they give int64)
    "stack", "concatenate", "vstack", "hstack", "square", "abs", "clip", "maximum", "minimum", "power", "multiply", "add",
    "subtract", "asarray", "array",
})

# ``nn.Parameter`` under every name its import resolves to.
PARAMETER_CTORS = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter"})
# ``nn.Module`` itself: a class deriving only from it registers no parameter by inheritance.
MODULE_BASE = frozenset({"torch.nn.Module", "torch.nn.modules.module.Module"})
# ``torch.autograd.Function``: a custom op with its own forward / backward.
FUNCTION_BASES = frozenset({"torch.autograd.Function", "torch.autograd.function.Function"})
# The module containers: they register what they hold as submodules.
MODULE_CONTAINERS = (
    "torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict",
    "torch.nn.modules.container.Sequential", "torch.nn.modules.container.ModuleList", "torch.nn.modules.container.ModuleDict",
)
MODULE_CONTAINER_CLASSES = frozenset(q.rsplit(".", 1)[-1] for q in MODULE_CONTAINERS)
# ``nn.Module`` methods that ``return self`` (moved, cast or switched in place): ``model.to(dev)`` is ``model``.
MODULE_SELF_METHODS = frozenset(
    {"eval", "train", "to", "cuda", "cpu", "float", "double", "half", "bfloat16", "requires_grad_", "apply", "share_memory", "to_empty", "type"}
)
# Tensor methods that cast or move: on a leaf that requires grad they return a non-leaf copy when the dtype or the
# device changes (``torch.randn(3, requires_grad=True).cuda()`` is not the leaf the optimizer should get).
TENSOR_CASTS = frozenset({"to", "cuda", "double", "half", "bfloat16", "float", "type"})
# Python builtins that turn a tensor into a Python number.
PYTHON_CASTS = {"float": "python", "int": "python", "bool": "python", "complex": "python"}

# Ops whose *output* autograd saves for backward: modifying it in place breaks backward.
SAVES_OUTPUT = {
    "exp",
    "sigmoid",
    "tanh",
    "tan",
    "softmax",
    "log_softmax",
    "relu",
    "sqrt",
    "rsqrt",
    "reciprocal",
    "exp2",
    "expm1",
}
# ``torch.nn`` modules whose backward uses their saved *output* (the module forms of SAVES_OUTPUT), with that op.
# (``nn.ReLU6`` is ``hardtanh``, whose backward reads its input: writing into its output is fine.)
MODULE_SAVED_OP = {"Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax", "LogSoftmax": "log_softmax", "ReLU": "relu"}
SAVES_OUTPUT_MODULES = frozenset(MODULE_SAVED_OP)

# Ops returning several views of their input from one autograd node. Autograd forbids modifying any of them
# (or a view of one) in place when the input requires grad and grad mode is on: the in-place op raises "Output 1 of
# Split is a view and is being modified inplace". ``tensor_split`` / ``hsplit`` return separate slices (allowed), and
# ``unsafe_chunk`` / ``unsafe_split`` exist to allow it.
MULTI_OUTPUT_VIEWS = {"chunk", "split", "split_with_sizes", "unbind"}

# Ops whose result may be (a view of) their input itself: views (``reshape`` and ``flatten`` return one when they
# can), and conversions that return the tensor unchanged when it already has that dtype / device / layout. An
# inference tensor stays one through them; any other op, run outside inference mode on inputs that need no
# gradient, allocates a normal tensor (``torch.cat(feats)``, ``x * 2``, ``x.mean(0)`` of inference tensors can be
# saved for backward; ``x.view(...)`` or ``x.float()`` of a float one cannot).
ALIASING_OPS = frozenset({
    "view", "view_as", "reshape", "reshape_as", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose", "permute",
    "t", "narrow", "select", "expand", "expand_as", "unbind", "split", "split_with_sizes", "chunk", "tensor_split",
    "hsplit", "vsplit", "dsplit", "movedim", "moveaxis", "swapaxes", "swapdims", "diagonal", "as_strided", "detach",
    "unfold", "view_as_real", "view_as_complex", "real", "imag", "conj", "resolve_conj", "resolve_neg", "alias",
    "float", "double", "half", "bfloat16", "int", "long", "bool", "to", "type", "type_as", "cpu", "cuda",
    "contiguous", "requires_grad_", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_to", "squeeze_", "unsqueeze_",
    "t_", "transpose_", "data", "numpy", "as_tensor", "asarray", "from_numpy", "pin_memory", "share_memory_",
})

# Tensor methods that return a view of their input (its storage, a new tensor object); ``reshape`` / ``flatten`` return
# one when they can and a copy otherwise (SHAPE_METHODS). Either way autograd records the op: a view of a leaf that
# requires grad is a non-leaf, which no optimizer accepts.
VIEW_METHODS = frozenset({
    "t", "transpose", "permute", "view", "view_as", "unsqueeze", "squeeze", "expand", "expand_as", "narrow", "select",
    "movedim", "swapaxes", "swapdims", "diagonal", "unflatten",
})
SHAPE_METHODS = VIEW_METHODS | {"reshape", "flatten"}

# torch.distributed collectives that write their input's data into output buffers outside autograd (the
# differentiable forms live in ``torch.distributed.nn.functional``): the buffers, this rank's slot included, carry
# no gradient back to the input. Qualified name -> (index of the output argument, index of the input argument).
NONDIFF_COLLECTIVES = {
    "torch.distributed.all_gather": (0, 1),
    "torch.distributed.all_gather_into_tensor": (0, 1),
    "torch.distributed.distributed_c10d.all_gather": (0, 1),
    "torch.distributed.distributed_c10d.all_gather_into_tensor": (0, 1),
}

GRAD_DISABLING = {"torch.no_grad", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad"}
INFERENCE = {"torch.inference_mode", "torch.autograd.grad_mode.inference_mode"}
GRAD_ENABLING = {"torch.enable_grad", "torch.autograd.enable_grad", "torch.autograd.grad_mode.enable_grad"}
SET_GRAD_ENABLED = {"torch.set_grad_enabled", "torch.autograd.set_grad_enabled", "torch.autograd.grad_mode.set_grad_enabled"}

# Attributes of a tensor that are plain Python data.
META_ATTRS = {
    "shape",
    "dtype",
    "device",
    "requires_grad",
    "is_leaf",
    "ndim",
    "is_cuda",
    "grad_fn",
    "layout",
    "names",
    "itemsize",
    "nbytes",
    "training",
}

# Hyperparameters every ``torch.nn`` layer that has them keeps as Python values (ints, tuples, floats, bools), never as
# parameters: ``m.padding[1]`` of a convolution found by ``model.modules()`` is a number.
LAYER_HYPERPARAMETERS = frozenset({
    "padding", "stride", "dilation", "kernel_size", "output_padding", "groups", "padding_mode",
    "in_channels", "out_channels", "in_features", "out_features", "num_features", "normalized_shape",
    "num_embeddings", "embedding_dim", "padding_idx", "max_norm", "eps", "momentum", "affine",
    "track_running_stats", "num_heads", "head_dim", "embed_dim", "hidden_size", "input_size", "num_layers",
    "bidirectional", "batch_first", "inplace", "negative_slope",
})

# Creation functions (no gradient unless requires_grad=True is passed).
FACTORIES = {
    "tensor",
    "zeros",
    "ones",
    "empty",
    "full",
    "rand",
    "randn",
    "randint",
    "arange",
    "linspace",
    "logspace",
    "eye",
    "zeros_like",
    "ones_like",
    "empty_like",
    "full_like",
    "rand_like",
    "randn_like",
    "randint_like",
    "as_tensor",
    "normal",
    "randperm",
}
# Tensor methods that create a new tensor of the receiver's dtype and device with no autograd history
# (``h = memory.new_zeros(b, d)``): no gradient reaches the receiver through them. ``new_tensor(data)`` copies
# ``data`` without its history (as ``data.clone().detach()``): a cut of what ``data`` carries.
NEW_TENSOR_METHODS = {"new_zeros", "new_ones", "new_full", "new_empty", "new_empty_strided", "new_tensor"}
# Tensor methods that return plain Python values describing the tensor, never a differentiable result.
META_METHODS = {"size", "dim", "ndimension", "numel", "nelement", "stride", "element_size", "get_device", "is_contiguous", "is_floating_point", "is_complex", "data_ptr", "storage_offset"}
# Tensor methods whose tensor argument gives only a shape, dtype or device (``q.expand_as(keys)``): the result
# is the receiver's data; no gradient reaches the argument through it.
SHAPE_OF_ARG_METHODS = {"expand_as", "view_as", "reshape_as", "type_as"}
# ``torch.autograd.Variable(t)`` is a new tensor with ``t``'s data and no history (with ``requires_grad=True``,
# a fresh leaf): the legacy way to re-wrap, a cut like ``torch.tensor(t)``.
VARIABLE = {"torch.autograd.Variable", "torch.autograd.variable.Variable"}
# Reductions that return ``(values, indices)``: values keep the gradient, indices (int64) have none. Those in
# ``WITH_DIM_ONLY`` return a plain tensor when called without a dimension (``x.max()``) or with a tensor
# (``torch.max(a, b)`` is elementwise).
VALUES_INDICES = {"max", "min", "median", "nanmedian", "mode", "kthvalue", "topk", "sort", "cummax", "cummin"}
WITH_DIM_ONLY = {"max", "min", "median", "nanmedian"}
RANDOM_FACTORIES = {"rand", "randn", "randn_like", "rand_like", "normal", "empty", "empty_like"}
# Legacy typed constructors (and ``from_numpy``): each makes a new tensor that needs no gradient, from whatever data.
LEGACY_TENSOR_CTORS = frozenset({"torch.Tensor", "torch.FloatTensor", "torch.DoubleTensor", "torch.LongTensor", "torch.IntTensor", "torch.BoolTensor", "torch.from_numpy"})
# Tensor methods whose backward needs no saved tensor (only sizes): a graph of them alone can be backpropagated again.
NOTHING_SAVED_METHODS = frozenset({"sum", "mean", "neg", "view", "reshape", "flatten", "clone", "t", "transpose", "permute", "squeeze", "unsqueeze",
                                   "expand", "contiguous", "add", "sub"})

OPTIMIZER_HINTS = ("Adam", "SGD", "RMSprop", "Adagrad", "Adadelta", "LBFGS", "Optimizer", "Lion", "Lamb", "Adafactor", "Rprop", "ASGD", "NAdam", "RAdam", "Muon", "SparseAdam")


def is_module_ctor(qualname: str) -> bool:
    """torch.nn.Linear(...) and friends (but not nn.Parameter / nn.init / nn.functional)."""
    if not qualname.startswith("torch.nn."):
        return False
    last = qualname.rsplit(".", 1)[-1]
    if last in {"Parameter", "Buffer", "UninitializedParameter", "ParameterList", "ParameterDict"}:
        return False
    rest = qualname[len("torch.nn.") :]
    if rest.startswith(("functional", "init", "utils", "parameter")):
        return False
    return last[:1].isupper()


# ``torch.nn.functional`` losses that do not end in ``_loss``
_FUNCTIONAL_LOSSES = frozenset({"cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "margin_ranking_loss"})


def is_loss_function(qualname: str) -> bool:
    """``torch.nn.functional.mse_loss`` and the other functional losses (``F.l1_loss``, ``F.cross_entropy``, ...)."""
    if not qualname.startswith("torch.nn.functional."):
        return False
    short = qualname.rsplit(".", 1)[-1]
    return short.endswith("_loss") or short in _FUNCTIONAL_LOSSES


def is_optimizer_ctor(qualname: str) -> bool:
    if qualname.startswith("torch.optim.lr_scheduler") or qualname.startswith("torch.optim.swa_utils"):
        return False
    if qualname.startswith("torch.optim."):
        return qualname.rsplit(".", 1)[-1][:1].isupper()
    last = qualname.rsplit(".", 1)[-1]
    return any(h in last for h in OPTIMIZER_HINTS) and "Scheduler" not in last


# -- training frameworks -------------------------------------------------------------------------------
# Base classes that subclass ``torch.nn.Module`` (a class deriving from one is a Module).
FRAMEWORK_MODULE_BASES = {
    "lightning.LightningModule",
    "lightning.pytorch.LightningModule",
    "lightning.pytorch.core.LightningModule",
    "lightning.pytorch.core.module.LightningModule",
    "pytorch_lightning.LightningModule",
    "pytorch_lightning.core.LightningModule",
    "pytorch_lightning.core.module.LightningModule",
    "lightning.fabric.wrappers._FabricModule",
    "transformers.PreTrainedModel",
    "transformers.modeling_utils.PreTrainedModel",
    "diffusers.ModelMixin",
    "diffusers.models.ModelMixin",
    "diffusers.models.modeling_utils.ModelMixin",
    "timm.models.layers.Mlp",
    "timm.layers.Mlp",
}
# Bases whose subclasses backpropagate what ``training_step`` returns (automatic optimization).
LIGHTNING_BASES = {q for q in FRAMEWORK_MODULE_BASES if "ightning" in q and "Fabric" not in q}
# Lightning's Trainer: what its ``fit`` does with a LightningModule (runs ``training_step`` and backpropagates its
# loss, validation steps under inference mode, ...) is modeled through the module's framework.
LIGHTNING_TRAINERS = {"lightning.Trainer", "lightning.pytorch.Trainer", "lightning.pytorch.trainer.Trainer", "lightning.pytorch.trainer.trainer.Trainer", "pytorch_lightning.Trainer", "pytorch_lightning.trainer.Trainer", "pytorch_lightning.trainer.trainer.Trainer"}
# Framework base classes that are not Modules: a subclass (an EMA callback) is a plain object.
FRAMEWORK_PLAIN_BASES = {
    "lightning.Callback", "lightning.pytorch.Callback", "lightning.pytorch.callbacks.Callback", "lightning.pytorch.callbacks.callback.Callback",
    "pytorch_lightning.Callback", "pytorch_lightning.callbacks.Callback", "pytorch_lightning.callbacks.base.Callback", "pytorch_lightning.callbacks.callback.Callback",
    "transformers.TrainerCallback", "transformers.trainer_callback.TrainerCallback",
}
LIGHTNING_CALLBACK_BASES = frozenset(q for q in FRAMEWORK_PLAIN_BASES if "ightning" in q)  # ``Callback`` of Lightning, any import path
# Bases whose subclasses backpropagate the loss a ``compute_loss`` override returns.
HF_TRAINER_BASES = {"transformers.Trainer", "transformers.trainer.Trainer", "transformers.Seq2SeqTrainer", "trl.SFTTrainer", "trl.DPOTrainer"}
# A Hugging Face ``TrainerCallback``'s events the Trainer runs after ``train()`` built its optimizer (from the
# parameters that required grad then), while it still trains: all but ``on_init_end`` (run in ``Trainer.__init__``)
# and those after training (``on_train_end``, ``on_predict``).
HF_CALLBACK_BASES = {"transformers.TrainerCallback", "transformers.trainer_callback.TrainerCallback"}
HF_CALLBACK_EVENTS_DURING_TRAINING = (
    "on_train_begin", "on_epoch_begin", "on_epoch_end", "on_step_begin", "on_pre_optimizer_step", "on_optimizer_step",
    "on_substep_end", "on_step_end", "on_evaluate", "on_save", "on_log", "on_prediction_step",
)
# Trainer methods that build its optimizer: a subclass overriding one builds it its own way.
HF_TRAINER_OPTIMIZER_BUILDERS = ("create_optimizer", "create_optimizer_and_scheduler")
# Bases whose ``forward`` returns the loss a trainer backpropagates (``outputs.loss`` / ``outputs["loss"]``).
HF_MODEL_BASES = {q for q in FRAMEWORK_MODULE_BASES if q.startswith("transformers.")}


# Module base classes that register no parameter of their own: a subclass holds what its own code assigns (Hugging
# Face's base may tie the output embedding to the input one, through ``get_output_embeddings``).
# (diffusers' ``ModelMixin`` and ``ConfigMixin`` add loading, saving and the config, no parameters)
PARAMETERLESS_MODULE_BASES = frozenset({
    *MODULE_BASE, *LIGHTNING_BASES, "transformers.PreTrainedModel", "transformers.modeling_utils.PreTrainedModel",
    "diffusers.ModelMixin", "diffusers.models.ModelMixin", "diffusers.models.modeling_utils.ModelMixin",
    "diffusers.ConfigMixin", "diffusers.configuration_utils.ConfigMixin",
})


def is_framework_module_base(qualname: str) -> bool:
    """``LightningModule``, ``PreTrainedModel``, ``ModelMixin`` and the model classes of ``transformers``
    (``BertModel``, ``GPT2PreTrainedModel``, ``...ForSequenceClassification``) are ``nn.Module``s."""
    if qualname in FRAMEWORK_MODULE_BASES:
        return True
    if qualname.startswith("transformers."):
        last = qualname.rsplit(".", 1)[-1]
        return last.endswith(("PreTrainedModel", "Model")) or ("For" in last and last[:1].isupper())
    return False


# Objects of training frameworks, by constructor: what kind of value they are.
FRAMEWORK_OBJECTS = {
    "accelerate.Accelerator": "accelerator",
    "accelerate.accelerator.Accelerator": "accelerator",
    "lightning.Fabric": "fabric",
    "lightning.fabric.Fabric": "fabric",
    "lightning_fabric.Fabric": "fabric",
    "torch.amp.GradScaler": "scaler",
    "torch.cuda.amp.GradScaler": "scaler",
    "torch.amp.grad_scaler.GradScaler": "scaler",
    "torch.cpu.amp.GradScaler": "scaler",
}


def framework_modeled(qualname: str) -> bool:
    """Is the imported name ``qualname`` one whose framework meaning this table gives (``LightningModule``, a
    ``transformers`` model or ``Trainer``, a ``TrainerCallback``, ``Accelerator``, ``Fabric``)? Its source, in the
    workspace or an installed package, is never linked into a program: a copy would stand for it under its bare
    name, and what the framework does with a subclass (runs ``training_step`` and backpropagates its loss, runs
    ``validation_step`` under inference mode, ...) would be lost."""
    return (
        qualname in LIGHTNING_BASES
        or qualname in LIGHTNING_TRAINERS
        or qualname in HF_TRAINER_BASES
        or qualname in HF_CALLBACK_BASES
        or qualname in FRAMEWORK_PLAIN_BASES
        or qualname in FRAMEWORK_OBJECTS
        or qualname in HF_OUTPUT_CLASSES
        or (qualname.startswith("transformers.") and is_framework_module_base(qualname))
    )
# Hugging Face's output object: ``ModelOutput(loss=loss, logits=logits)`` keeps its keyword entries (a dict that also
# reads by attribute), which the engine models for any outside constructor called with keywords; its source (a dict
# subclass filled by ``__post_init__``) is never linked in its place.
HF_OUTPUT_CLASSES = {
    "transformers.modeling_outputs.ModelOutput", "transformers.utils.ModelOutput", "transformers.utils.generic.ModelOutput",
    "transformers.file_utils.ModelOutput", "transformers.ModelOutput",
}
# Methods of those objects that hand back the very objects they are given (same parameters), in order.
IDENTITY_METHODS = {
    "accelerator": {"prepare", "prepare_model", "prepare_optimizer", "unwrap_model", "prepare_data_loader", "prepare_scheduler"},
    "fabric": {"setup", "setup_module", "setup_optimizers", "setup_dataloaders"},
}
# Methods that backpropagate their first argument (``accelerator.backward(loss)``).
BACKWARD_METHODS = {"accelerator": {"backward"}, "fabric": {"backward"}, "lightning": {"manual_backward"}}
# Methods that step the optimizer given as first argument (``scaler.step(optimizer)``).
STEP_METHODS = {"scaler": {"step"}}
# Functions that wrap a module and keep its parameters (forward goes through the wrapper).
MODULE_WRAPPERS = {
    "torch.compile",
    "torch.nn.DataParallel",
    "torch.nn.parallel.DataParallel",
    "torch.nn.parallel.DistributedDataParallel",
    "torch.nn.parallel.distributed.DistributedDataParallel",
    "torch.distributed.fsdp.FullyShardedDataParallel",
    "torch.nn.SyncBatchNorm.convert_sync_batchnorm",
    "torch.jit.script",
    "torch.ao.quantization.prepare_qat",
}
# Wrappers that are modules of their own whose ``forward`` runs only ``self.module``: a layer set on the wrapper
# (``ddp.head = nn.Linear(...)``) is registered there (its parameters are in ``ddp.parameters()``) but never run by
# ``ddp(x)``, while the wrapped module keeps its own ``head``.
FORWARDS_TO_MODULE = {
    "torch.nn.DataParallel",
    "torch.nn.parallel.DataParallel",
    "torch.nn.parallel.DistributedDataParallel",
    "torch.nn.parallel.distributed.DistributedDataParallel",
}
# Attributes of a wrapper that are the wrapped module itself.
WRAPPED_MODULE_ATTRS = {"module", "_orig_mod", "_forward_module"}
# Words one of which a file must contain to hold a loss that is backpropagated (a rule's text pre-filter):
# ``.backward(``, ``autograd.grad``, or a method a framework backpropagates the result of.
LOSS_SINK_WORDS = ("backward", "autograd", "training_step", "compute_loss", "transformers")
# The order a framework runs a module's methods in, around building its optimizers: Lightning's Trainer builds
# the model (``__init__``), runs ``setup`` and ``configure_model``, then calls ``configure_optimizers`` once; the
# hooks below run afterwards, during fit (``training_step`` is stepped with the optimizers built then).
OPTIMIZER_BUILDERS = {"lightning": "configure_optimizers"}
RUN_BEFORE_OPTIMIZERS = {"lightning": ("__init__", "setup", "configure_model")}
# Methods a framework calls once per batch, again and again: what one call leaves behind (a module frozen after its
# backward) is in force when the next call's forward runs.
REPEATED_BY_FRAMEWORK = {"lightning": ("training_step",)}
# Hooks the Lightning Trainer runs in the same process before ``training_step`` (on every fit, epoch or batch).
LIGHTNING_HOOKS_BEFORE_TRAINING_STEP = ("setup", "on_fit_start", "on_train_start", "on_train_epoch_start", "on_train_batch_start")
# A Lightning ``Callback``'s hooks the Trainer runs between training steps, outside the evaluation loop's
# inference-mode context: grad mode one of them leaves off is off for the steps that follow (the next batch, the next
# epoch).
LIGHTNING_CALLBACK_TRAINING_HOOKS = (
    *LIGHTNING_HOOKS_BEFORE_TRAINING_STEP, "on_train_batch_end", "on_train_epoch_end", "on_before_optimizer_step", "on_before_zero_grad",
)
RUN_AFTER_OPTIMIZERS = {
    "lightning": (
        "on_fit_start", "on_train_start", "on_train_epoch_start", "on_train_batch_start", "training_step",
        "on_before_backward", "on_after_backward", "on_before_optimizer_step", "on_train_batch_end",
        "on_train_epoch_end", "on_validation_epoch_start", "on_validation_epoch_end",
    ),
}
# The method a framework calls once per batch, backpropagating the loss it returns (or the one it backpropagates
# itself) before the next call; and the hooks it runs once per batch around it (a reset there runs every step).
# The method a framework calls once per batch and whose loss it backpropagates before the next call: Lightning's
# ``training_step``; a Hugging Face ``Trainer`` subclass's ``compute_loss`` (``Trainer.training_step`` calls it, then
# ``accelerator.backward(loss)``).
STEP_METHODS_BY_FRAMEWORK = {"lightning": "training_step", "hf_trainer": "compute_loss"}
RUN_EVERY_BATCH = {
    "lightning": (
        "training_step", "on_train_batch_start", "on_before_backward", "on_after_backward", "on_before_zero_grad",
        "on_before_optimizer_step", "optimizer_step", "optimizer_zero_grad", "on_train_batch_end",
    ),
    "hf_trainer": ("training_step", "compute_loss"),
}
# Kinds of values whose ``.step()`` is not an optimizer step (LR schedulers, SWA/EMA helpers).
NOT_OPTIMIZER_KINDS = {"scheduler", "module", "python", "numpy", "none", "accelerator", "fabric"}


def is_scheduler_ctor(qualname: str) -> bool:
    return qualname.startswith(("torch.optim.lr_scheduler.", "torch.optim.swa_utils.SWALR", "transformers.get_", "diffusers.optimization.get_")) or qualname.rsplit(".", 1)[-1].endswith(("Scheduler", "LR", "_schedule", "_scheduler"))
# Functions that return a new object with its own copies of the parameters.
# (``AveragedModel(model)`` keeps ``deepcopy(model)`` as its ``.module``: an optimizer over its parameters holds
# the average, not the model)
COPY_FUNCTIONS = {"copy.deepcopy", "torch.optim.swa_utils.AveragedModel", "torch.optim.AveragedModel"}
# Ops whose backward needs their *input* (autograd saves it): modifying that input in place before
# backward() raises "one of the variables needed for gradient computation has been modified by an inplace
# operation". Functions / tensor methods by short name, and nn modules by class name.
# (The unary and reduction ops among them were measured under torch 2.13: the input of ``op(x)``, for ``x`` that
# requires grad, modified in place before ``backward()`` raises. ``max``/``min`` with a dim save only indices, and are
# read as ``(values, indices)`` before this table is consulted.)
SAVES_INPUT = {
    "pow", "matmul", "mm", "bmm", "linear", "bilinear", "conv1d", "conv2d", "conv3d", "layer_norm", "batch_norm",
    "group_norm", "instance_norm", "rms_norm", "max", "min", "abs", "log", "log1p", "log2", "log10", "sin", "cos", "gelu",
    "silu", "softplus", "mish", "prod", "norm", "atan", "erf", "cosine_similarity", "normalize", "square",
    "acos", "asin", "asinh", "acosh", "atanh", "sinh", "cosh", "atan2", "digamma", "lgamma", "erfc", "erfinv", "logit",
    "sinc", "i0", "xlogy", "softsign", "logsigmoid", "elu", "selu", "celu", "leaky_relu", "hardtanh", "relu6",
    "hardswish", "hardsigmoid", "softshrink", "hardshrink", "prelu", "amax", "amin", "cumprod", "logsumexp", "std", "var",
}
# Layers whose op saves their own ``weight`` for backward (to compute the gradient of their input): always (a
# convolution or a normalization keeps it whenever the weight requires grad), or only when their input requires grad
# (``F.linear``: ``addmm`` keeps the weight only for the input's gradient). An in-place write into that weight between
# the forward and the backward (a forward hook that clips it) makes the backward raise. Measured under torch 2.13.
SAVES_WEIGHT_ALWAYS = frozenset({
    "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "LazyConv1d", "LazyConv2d",
    "LazyConv3d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm",
})
# Run a module with given tensors in place of its parameters and buffers (``functional_call(module, params, args)``).
FUNCTIONAL_CALLS = frozenset({"torch.func.functional_call", "torch.nn.utils.stateless.functional_call", "torch._functorch.functional_call.functional_call"})
SAVES_WEIGHT_WITH_INPUT_GRAD = frozenset({"Linear", "LazyLinear", "Bilinear"})
SAVES_INPUT_MODULES = {
    "Linear", "Bilinear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "LayerNorm", "RMSNorm",
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "GELU", "SiLU",
    "Softplus", "Mish", "MultiheadAttention", "ELU", "SELU", "CELU", "LeakyReLU", "Hardtanh", "ReLU6", "Hardswish",
    "Hardsigmoid", "LogSigmoid", "Softsign", "Softshrink", "Hardshrink", "PReLU",
}
# Parameters a ``torch.nn`` layer registers in its ``__init__`` whatever its constructor's arguments (``bias`` may be
# None, ``bias=False``; norms may have no affine weight): in a subclass (``class NonNegLinear(nn.Linear)``),
# ``self.weight`` is that inherited ``nn.Parameter``, a leaf that requires grad.
LAYER_PARAMETERS = {
    "Linear": ("weight",), "Bilinear": ("weight",), "Conv1d": ("weight",), "Conv2d": ("weight",), "Conv3d": ("weight",),
    "ConvTranspose1d": ("weight",), "ConvTranspose2d": ("weight",), "ConvTranspose3d": ("weight",),
    "Embedding": ("weight",), "EmbeddingBag": ("weight",),
}
# Every name a ``torch.nn`` layer keeps in ``_parameters`` whatever its arguments (``bias=False``, ``affine=False`` and
# ``elementwise_affine=False`` register the name with None): ``Module.__setattr__`` lets such a slot take only an
# ``nn.Parameter`` or None, and raises TypeError for anything else.
PARAMETER_SLOTS = {
    **{c: ("weight", "bias") for c in (
        "Linear", "Bilinear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
        "LayerNorm", "GroupNorm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
        "InstanceNorm3d", "SyncBatchNorm")},
    "Embedding": ("weight",), "EmbeddingBag": ("weight",), "PReLU": ("weight",),
}
# Tensor methods whose result is a new tensor, never the tensor itself (so never an ``nn.Parameter``: a Parameter's ops
# return plain tensors). Not the casts (``.to()``, ``.float()``, ``.cuda()``, ``.contiguous()`` return the tensor itself
# when nothing changes) nor in-place methods (``.clamp_()``, ``.requires_grad_()`` return it).
NEW_TENSOR_RESULT_METHODS = frozenset({
    "detach", "clone", "add", "sub", "mul", "div", "true_divide", "matmul", "mm", "bmm", "t", "transpose", "permute",
    "view", "reshape", "flatten", "squeeze", "unsqueeze", "expand", "repeat", "norm", "softmax", "log_softmax",
    "sigmoid", "tanh", "exp", "log", "abs", "clamp", "clip", "sum", "mean", "pow", "sqrt", "rsqrt", "neg", "sign",
    "masked_fill", "index_select", "gather", "narrow", "roll", "flip", "renorm", "numpy", "tolist", "item",
})
# nn activations that can run in place on their input: (class, position of the ``inplace`` argument).
# torch.nn.functional ops with an ``inplace`` flag -> its position (the input is 0): ``F.dropout(x, p, training, inplace)``
INPLACE_FUNCTIONAL = {
    "relu": 1, "relu6": 1, "selu": 1, "silu": 1, "mish": 1, "hardswish": 1, "hardsigmoid": 1, "leaky_relu": 2, "elu": 2,
    "celu": 2, "dropout": 3, "dropout1d": 3, "dropout2d": 3, "dropout3d": 3, "alpha_dropout": 3, "feature_alpha_dropout": 3,
    "threshold": 3, "hardtanh": 3, "rrelu": 4,
}
INPLACE_MODULES = {"ReLU": 0, "ReLU6": 0, "SiLU": 0, "Hardswish": 0, "Mish": 0, "SELU": 0, "Hardsigmoid": 0, "LeakyReLU": 1, "ELU": 1, "CELU": 1, "Dropout": 1, "Dropout1d": 1, "Dropout2d": 1, "Dropout3d": 1, "AlphaDropout": 1, "Threshold": 2, "Hardtanh": 2}
# diffusers' config classes: ``self.config`` holds the constructor arguments ``@register_to_config`` recorded.
CONFIG_MIXIN_BASES = frozenset({
    "diffusers.ModelMixin", "diffusers.models.ModelMixin", "diffusers.models.modeling_utils.ModelMixin",
    "diffusers.ConfigMixin", "diffusers.configuration_utils.ConfigMixin",
})
# Attributes the framework base class sets that hold configuration, not parameters.
FRAMEWORK_PLAIN_ATTRS = {
    "hf_model": {"config", "generation_config", "name_or_path", "main_input_name", "device", "dtype"},
    "lightning": {"hparams", "trainer", "device", "dtype", "global_step", "current_epoch", "automatic_optimization"},
}


# Classmethods that build a module from given weights and freeze it unless told otherwise: qualified name ->
# (keyword, position) of the flag. ``nn.Embedding.from_pretrained(vectors)`` has ``freeze=True`` by default: its
# ``weight.requires_grad`` is False, so the table is not trained (nor given a ``.grad``) unless ``freeze=False``.
FROZEN_BY_DEFAULT = {
    "torch.nn.Embedding.from_pretrained": ("freeze", 1),
    "torch.nn.EmbeddingBag.from_pretrained": ("freeze", 1),
}
# what a scope's text spells when it may change requires_grad: a flag, ``freeze()``, one of the above, or a Parameter
# built frozen by position (``nn.Parameter(t, False)``)
# Tensor methods that return the same data moved, cast or copied: no new parameter comes of them (``self.q.to(dev)``
# is the tensor ``self.q`` held, on another device).
TENSOR_MOVE_METHODS = frozenset({"to", "cuda", "cpu", "clone", "detach", "float", "half", "double", "bfloat16", "long", "int", "bool", "type", "contiguous"})
CHANGES_REQUIRES_GRAD = re.compile(r"requires_grad|freeze\(|Embedding(?:Bag)?\.from_pretrained\(|Parameter\(.*,\s*False\s*\)")

# torch.nn layers without parameters (never a root of gradient)
PARAMLESS_SUFFIXES = ("Loss", "ReLU", "ReLU6", "GELU", "SiLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "Identity", "Flatten", "Unflatten", "ELU", "SELU", "CELU", "Mish", "Hardtanh", "Hardswish", "Hardsigmoid", "Softplus", "Softsign", "LeakyReLU", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool2d", "Upsample", "PixelShuffle", "CosineSimilarity", "PairwiseDistance")

# torchvision's data transforms (``transforms`` and ``transforms.v2``: crops, flips, color jitter, ``Normalize``...)
# register no parameter; the ones that hold other transforms or a callable (``RandomApply([...])``, ``Lambda(fn)``)
# hold whatever they are given.
TRANSFORM_PACKAGES = ("torchvision.transforms.",)
TRANSFORM_HOLDERS = frozenset({"Compose", "RandomApply", "RandomChoice", "RandomOrder", "Lambda"})


def is_parameterless_ctor(qualname: str) -> bool:
    """Does this constructor build an object with no parameter of its own, whatever its arguments (``nn.ReLU()``,
    ``nn.Identity()``, ``T.RandomResizedCrop(224)``)? Calling it never reaches a parameter."""
    short = qualname.rsplit(".", 1)[-1]
    if is_module_ctor(qualname):
        return short.endswith(PARAMLESS_SUFFIXES)
    return qualname.startswith(TRANSFORM_PACKAGES) and short[:1].isupper() and short not in TRANSFORM_HOLDERS

# Every parameter a ``torch.nn`` layer registers (LAYER_PARAMETERS above: only the weights layer subclasses read), by
# the names ``named_parameters()`` gives them: layer -> (always,
# present only when the switch keyword is true, that keyword, its default, keywords that change the set otherwise, how
# many positional arguments come before the switch's position).
_CONV = (("weight",), ("bias",), "bias", True, (), 7)
LAYER_PARAMETER_NAMES: dict = {
    "Linear": (("weight",), ("bias",), "bias", True, (), 2),
    "Bilinear": (("weight",), ("bias",), "bias", True, (), 3),
    **{c: _CONV for c in ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")},
    "LayerNorm": ((), ("weight", "bias"), "elementwise_affine", True, ("bias",), 2),
    "GroupNorm": ((), ("weight", "bias"), "affine", True, (), 3),
    **{c: ((), ("weight", "bias"), "affine", True, (), 3) for c in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")},
    **{c: ((), ("weight", "bias"), "affine", False, (), 3) for c in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")},
    "Embedding": (("weight",), (), None, True, ("_weight",), 99),
    "EmbeddingBag": (("weight",), (), None, True, ("_weight",), 99),
    "PReLU": (("weight",), (), None, True, (), 99),
    "MultiheadAttention": (("in_proj_weight", "out_proj.weight"), ("in_proj_bias", "out_proj.bias"), "bias", True, ("kdim", "vdim", "add_bias_kv"), 3),
}

# NumPy constructors whose result is float64 when no dtype is given (``np.full`` and ``np.arange`` take the dtype of
# their values, so they are not here); ``torch.from_numpy`` / ``torch.tensor`` / ``torch.as_tensor`` keep it.
NUMPY_FLOAT64_MAKERS = frozenset({
    "numpy.zeros", "numpy.ones", "numpy.empty", "numpy.eye", "numpy.identity", "numpy.linspace", "numpy.logspace",
    "numpy.random.randn", "numpy.random.rand", "numpy.random.random", "numpy.random.normal", "numpy.random.uniform",
    "numpy.random.standard_normal", "numpy.random.random_sample", "numpy.loadtxt", "numpy.genfromtxt",
})
TENSORS_FROM_NUMPY = frozenset({"torch.from_numpy", "torch.tensor", "torch.as_tensor"})


# -- sparse gradients ------------------------------------------------------------------------------------------
# Layers whose weight gets a sparse gradient when built with ``sparse=True`` (checked under torch 2.13).
SPARSE_GRAD_MODULES = frozenset({
    "torch.nn.Embedding", "torch.nn.EmbeddingBag", "torch.nn.modules.sparse.Embedding", "torch.nn.modules.sparse.EmbeddingBag",
})
# Optimizers whose ``step()`` raises on a sparse gradient ("Adam does not support sparse gradients, please consider
# SparseAdam instead"); each checked under torch 2.13. SGD and Adagrad take sparse gradients, but not with a non-zero
# ``weight_decay`` (SPARSE_WITHOUT_WEIGHT_DECAY); SparseAdam takes only sparse ones.
OPTIMIZERS_WITHOUT_SPARSE = frozenset({
    "Adam", "AdamW", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "Adafactor",
})
SPARSE_WITHOUT_WEIGHT_DECAY = frozenset({"SGD", "Adagrad"})
# ``TrainingArguments(optim=...)`` names of the Hugging Face Trainer's own optimizers that raise on sparse gradients
# (the default, when ``optim`` is not given, is AdamW).
HF_OPTIM_WITHOUT_SPARSE = frozenset({"adamw_torch", "adamw_torch_fused", "adamw_hf", "adafactor", "rmsprop"})

# DistributedDataParallel: every parameter that requires grad and is used in ``forward`` must get its gradient from the
# backward that follows, unless it was built with ``find_unused_parameters=True`` (or ``static_graph=True``); otherwise the
# next forward raises "Expected to have finished reduction in the prior iteration before starting a new one".
DDP_CLASSES = frozenset({"torch.nn.parallel.DistributedDataParallel", "torch.nn.parallel.distributed.DistributedDataParallel"})


# Dataset constructors whose samples are the tensors they are given, as data (``torch.utils.data.TensorDataset``)
DATASET_CONSTRUCTORS = frozenset({"torch.utils.data.TensorDataset", "torch.utils.data.dataset.TensorDataset"})

# tensor methods whose result is a Python number (or a list of them): the cut kinds of CUT_METHODS that leave autograd
TO_NUMBER_METHODS = frozenset(m for m, kind in CUT_METHODS.items() if kind in ("item", "tolist"))

# calls returning an object whose ``backward`` is its own function (a compiled extension, a namespace of functions)
EXTENSION_LOADERS = frozenset({"torch.utils.cpp_extension.load", "torch.utils.cpp_extension.load_inline", "types.SimpleNamespace", "importlib.import_module"})
