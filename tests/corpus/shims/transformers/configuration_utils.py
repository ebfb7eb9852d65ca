import copy


class PretrainedConfig:
    """Attribute bag like the real config: every keyword becomes an attribute."""

    model_type = ""

    def __init__(self, **kwargs):
        self.return_dict = kwargs.pop("return_dict", True)
        self.output_hidden_states = kwargs.pop("output_hidden_states", False)
        self.output_attentions = kwargs.pop("output_attentions", False)
        self.use_return_dict = self.return_dict
        self.num_labels = kwargs.pop("num_labels", 2)
        self.problem_type = kwargs.pop("problem_type", None)
        for key, value in kwargs.items():
            setattr(self, key, value)

    def to_dict(self):
        out = copy.deepcopy(self.__dict__)
        out["model_type"] = self.model_type
        return out

    def __repr__(self):
        return f"{type(self).__name__} {self.to_dict()}"
