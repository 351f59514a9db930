"""The emulator's state on disk: a snapshot of moto's in-memory backends, so that `make dev`
keeps every table, object, queued message, user pool and parameter across a restart.

moto keeps each service's state in a module-level `BackendDict` (account → region → backend).
The snapshot pickles the region backends of every service in use and, on start, puts them back
into the same module-level dicts before the server answers its first request. It is taken when
the emulator stops (after every other part of the stack has stopped), so it is consistent; its
size is the size of the state, not of the history (moto's request recorder, the alternative,
keeps every request and replays them one by one, long polls included).

A few objects in moto's state cannot be pickled as they are: locks (rebuilt empty), the RSA key
a Cognito user pool signs with and the EC key behind the KMS key that signs content
credentials (both kept as PEM), and lambdas used as `defaultdict` factories (cloudpickle keeps
them by value); `defaultdict` subclasses whose constructor takes other
arguments are rebuilt without calling it.
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
import sys
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import cloudpickle
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

FORMAT = 1
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def _lock(kind: str) -> Any:
    return threading.RLock() if kind == "rlock" else threading.Lock()


def _rsa_key(pem: bytes) -> Any:  # any PEM private key (the name is that of older snapshots)
    return serialization.load_pem_private_key(pem, password=None)


def _defaultdict(cls: type, factory: Any) -> Any:
    made = cls.__new__(cls)
    defaultdict.__init__(made, factory)
    return made


class _Pickler(cloudpickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, defaultdict) and type(obj) is not defaultdict:
            # A subclass whose __init__ takes other arguments (SSM's ParameterDict).
            state = getattr(obj, "__dict__", None)
            return _defaultdict, (type(obj), obj.default_factory), state, None, iter(obj.items())
        if isinstance(obj, _LOCK_TYPES):
            return _lock, ("rlock" if isinstance(obj, type(threading.RLock())) else "lock",)
        if isinstance(obj, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            pem = obj.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return _rsa_key, (pem,)
        return super().reducer_override(obj)


def _backend_dicts() -> dict[tuple[str, str], Any]:
    """Every moto BackendDict in use, by the (module, attribute) that holds it."""
    from moto.core.base_backend import BackendDict

    in_use = {id(instance): instance for instance in BackendDict._instances}
    found: dict[tuple[str, str], Any] = {}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("moto.") or module is None:
            continue
        for attribute, value in list(vars(module).items()):
            if id(value) in in_use:
                found[(module_name, attribute)] = value
    return found


def save(path: Path) -> int:
    """Write the snapshot atomically; returns its size in bytes."""
    state: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for where, backend_dict in _backend_dicts().items():
        accounts = {
            account: dict(dict.items(regions)) for account, regions in dict.items(backend_dict)
        }
        if any(accounts.values()):
            state[where] = accounts
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump({"format": FORMAT, "state": state})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        out.write(buffer.getbuffer())
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
    return buffer.tell()


def load(path: Path) -> int:
    """Put a snapshot's backends back; returns how many services it held (0: no snapshot)."""
    if not path.exists():
        return 0
    with path.open("rb") as source:
        # Written by this module into the stack's own folder (mode 0600), never received.
        snapshot = pickle.load(source)  # noqa: S301
    if snapshot.get("format") != FORMAT:
        raise SystemExit(f"{path}: unknown snapshot format; `make reset` starts afresh")
    for (module_name, attribute), accounts in snapshot["state"].items():
        backend_dict = getattr(importlib.import_module(module_name), attribute)
        for account, regions in accounts.items():
            account_backend = backend_dict[account]  # creates it and registers the service
            for region, backend in regions.items():
                dict.__setitem__(account_backend, region, backend)
    return len(snapshot["state"])
