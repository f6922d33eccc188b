"""`helm lint` through the helm library (tests/setup/helm.sh): lints CHART as given, then a copy with
every optional part on (GPU workers, the study Job, the CronJob, TLS, store credentials, the
shared volume). Exits 1 when helm reports an error (severity 3 or more) for either."""
import ctypes
import json
import os
import shutil
import sys
import tempfile

lib = ctypes.CDLL(os.path.join(os.environ.get("TACEFUSION_HELM_DIR", os.path.expanduser("~/.cache/tacefusion-helm")), "libhelm_sdkpy.so"))
lib.helm_sdkpy_last_error.restype = ctypes.c_char_p
handle = ctypes.c_void_p()
if lib.helm_sdkpy_config_create(b"default", b"", b"", b"{}", ctypes.byref(handle)) != 0:
    sys.exit(f"helm: {lib.helm_sdkpy_last_error()}")


def lint(path):
    out = ctypes.c_char_p()
    rc = lib.helm_sdkpy_lint(handle, path.encode(), ctypes.byref(out))
    result = json.loads(out.value or b"{}")
    errors = [m for m in result.get("Messages") or [] if m.get("Severity", 0) >= 3]
    print(f"{path}: rc {rc}, {len(result.get('Messages') or [])} messages, {len(errors)} errors: {json.dumps(errors)}")
    return rc == 0 and not errors and not result.get("Errors")


chart = sys.argv[1]
ok = lint(chart)
with tempfile.TemporaryDirectory() as tmp:
    variant = os.path.join(tmp, "tacefusion")
    shutil.copytree(chart, variant)
    values = open(os.path.join(variant, "values.yaml")).read()
    for old, new in [
        ("replicas: 0", "replicas: 2"),
        ("studyJob:\n  enabled: false", "studyJob:\n  enabled: true"),
        ("reanalysis:\n  enabled: false", "reanalysis:\n  enabled: true"),
        ("sharedVolume:\n  enabled: false", "sharedVolume:\n  enabled: true"),
        ('tlsSecret: ""', "tlsSecret: tls"),
        ('storeCredentialsSecret: ""', "storeCredentialsSecret: creds"),
    ]:
        assert old in values, f"values.yaml no longer has {old!r}"
        values = values.replace(old, new)
    open(os.path.join(variant, "values.yaml"), "w").write(values)
    ok = lint(variant) and ok
sys.exit(0 if ok else 1)
