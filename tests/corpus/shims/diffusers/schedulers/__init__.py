from .scheduling_ddpm import DDPMScheduler  # noqa: F401
