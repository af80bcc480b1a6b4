"""Every way the data is cut, in one place: a random (train, val, test) split and the
stratified split of an image folder."""

import torch


def split_indices(n: int, val_fraction: float, test_fraction: float, seed: int):
    """A fixed random (train, val, test) split of ``range(n)``."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = round(n * test_fraction)
    n_val = round((n - n_test) * val_fraction)
    return order[n_test + n_val :], order[n_test : n_test + n_val], order[:n_test]


def stratified_split(targets: list[int], fractions: list[float], seed: int) -> list[list[int]]:
    """Positions of each class shuffled by ``seed`` and cut by ``fractions`` in turn
    (each of what is left): [rest, first cut, second cut...]."""
    generator = torch.Generator().manual_seed(seed)
    by_class: dict[int, list[int]] = {}
    for position, target in enumerate(targets):
        by_class.setdefault(target, []).append(position)
    parts: list[list[int]] = [[] for _ in range(len(fractions) + 1)]
    for target in sorted(by_class):
        members = by_class[target]
        order = [members[i] for i in torch.randperm(len(members), generator=generator)]
        for i, share in enumerate(fractions):
            n = round(len(order) * share)
            parts[i + 1] += order[:n]
            order = order[n:]
        parts[0] += order
    return [sorted(part) for part in parts]
