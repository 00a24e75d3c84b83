from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="MuveraConfig")


@_attrs_define
class MuveraConfig:
    """Parameters of MUVERA fixed-dimensional encodings (Dhulipala et al., 2024),
    named as in the paper. The encoding has `r_reps · 2^k_sim · d_proj`
    dimensions (or `final_dims`).

        Attributes:
            d_proj (int | None | Unset): Dimensions each bucket is projected to (1 to 1024).
            fde_dims (int | None | Unset): In answers: dimensions of the encoding (derived; refused in requests).
            fill_empty_partitions (bool | None | Unset): Fill empty document buckets from the nearest token.
            final_dims (int | None | Unset): Shrink the concatenation to this many dimensions (a count sketch).
            k_sim (int | None | Unset): SimHash hyperplanes per repetition: `2^k_sim` buckets (0 to 10).
            r_reps (int | None | Unset): Independent repetitions, concatenated (1 to 256).
            seed (int | None | Unset): Seed of every random matrix.
    """

    d_proj: int | None | Unset = UNSET
    fde_dims: int | None | Unset = UNSET
    fill_empty_partitions: bool | None | Unset = UNSET
    final_dims: int | None | Unset = UNSET
    k_sim: int | None | Unset = UNSET
    r_reps: int | None | Unset = UNSET
    seed: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        d_proj: int | None | Unset
        if isinstance(self.d_proj, Unset):
            d_proj = UNSET
        else:
            d_proj = self.d_proj

        fde_dims: int | None | Unset
        if isinstance(self.fde_dims, Unset):
            fde_dims = UNSET
        else:
            fde_dims = self.fde_dims

        fill_empty_partitions: bool | None | Unset
        if isinstance(self.fill_empty_partitions, Unset):
            fill_empty_partitions = UNSET
        else:
            fill_empty_partitions = self.fill_empty_partitions

        final_dims: int | None | Unset
        if isinstance(self.final_dims, Unset):
            final_dims = UNSET
        else:
            final_dims = self.final_dims

        k_sim: int | None | Unset
        if isinstance(self.k_sim, Unset):
            k_sim = UNSET
        else:
            k_sim = self.k_sim

        r_reps: int | None | Unset
        if isinstance(self.r_reps, Unset):
            r_reps = UNSET
        else:
            r_reps = self.r_reps

        seed: int | None | Unset
        if isinstance(self.seed, Unset):
            seed = UNSET
        else:
            seed = self.seed

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if d_proj is not UNSET:
            field_dict["d_proj"] = d_proj
        if fde_dims is not UNSET:
            field_dict["fde_dims"] = fde_dims
        if fill_empty_partitions is not UNSET:
            field_dict["fill_empty_partitions"] = fill_empty_partitions
        if final_dims is not UNSET:
            field_dict["final_dims"] = final_dims
        if k_sim is not UNSET:
            field_dict["k_sim"] = k_sim
        if r_reps is not UNSET:
            field_dict["r_reps"] = r_reps
        if seed is not UNSET:
            field_dict["seed"] = seed

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_d_proj(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        d_proj = _parse_d_proj(d.pop("d_proj", UNSET))

        def _parse_fde_dims(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        fde_dims = _parse_fde_dims(d.pop("fde_dims", UNSET))

        def _parse_fill_empty_partitions(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        fill_empty_partitions = _parse_fill_empty_partitions(
            d.pop("fill_empty_partitions", UNSET)
        )

        def _parse_final_dims(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        final_dims = _parse_final_dims(d.pop("final_dims", UNSET))

        def _parse_k_sim(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        k_sim = _parse_k_sim(d.pop("k_sim", UNSET))

        def _parse_r_reps(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        r_reps = _parse_r_reps(d.pop("r_reps", UNSET))

        def _parse_seed(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        seed = _parse_seed(d.pop("seed", UNSET))

        muvera_config = cls(
            d_proj=d_proj,
            fde_dims=fde_dims,
            fill_empty_partitions=fill_empty_partitions,
            final_dims=final_dims,
            k_sim=k_sim,
            r_reps=r_reps,
            seed=seed,
        )

        return muvera_config
