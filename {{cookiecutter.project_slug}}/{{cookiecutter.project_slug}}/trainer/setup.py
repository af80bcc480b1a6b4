"""Set-up the loop needs before its first batch (the device: ``utils.device``): the
loaders and how many batches an epoch runs, the progress bar."""

from tqdm.auto import tqdm


def epoch_loaders(datamodule, overfit: bool) -> tuple:
    """(train, val) loaders; with ``overfit_batches`` both are the unshuffled train set."""
    train_loader = datamodule.train_dataloader(shuffle=False if overfit else None)
    return train_loader, train_loader if overfit else datamodule.val_dataloader()


def batch_counts(cfg, train_loader, val_loader) -> tuple[int, int]:
    """Train and val batches per epoch, after the ``trainer.*`` limits."""
    train = limit_batches(cfg, len(train_loader), cfg.limit_train_batches)
    return train, limit_batches(cfg, len(val_loader), cfg.limit_val_batches)


def limit_batches(cfg, available: int, limit: int | None) -> int:
    """Batches per epoch after ``fast_dev_run``, ``overfit_batches`` and ``limit_*``."""
    if cfg.fast_dev_run:
        return min(available, 1)
    if cfg.overfit_batches:
        return min(available, cfg.overfit_batches)
    return min(available, limit) if limit else available


def progress_bar(total: int, start: int, description: str, show: bool):
    return tqdm(
        total=total,
        initial=start,
        desc=description,
        # None: tqdm shows itself on a terminal only, so logs and CI output stay clean.
        disable=None if show else True,
        leave=False,
        dynamic_ncols=True,
        mininterval=0.5,
    )


def describe_run(trainer) -> str:
    return (
        f"{trainer.epochs} epochs x {trainer.num_train_batches} batches (batch_size="
        f"{trainer.config.data.batch_size}{trainer.strategy.batch_note})"
    )
