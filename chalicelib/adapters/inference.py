"""The SageMaker async runtime: InvokeEndpointAsync."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.adapters.aws import client


@dataclass(frozen=True)
class Invocation:
    inference_id: str
    output_location: str


def invoke_async(
    endpoint: str, input_location: str, inference_id: str, filename: str, timeout_s: int
) -> Invocation:
    """Queue an inference; the image lands at the endpoint's output path under `filename`."""
    answer = client("sagemaker-runtime").invoke_endpoint_async(
        EndpointName=endpoint,
        InputLocation=input_location,
        InferenceId=inference_id,
        # Forwarded verbatim to the container, which writes the id into the image as its
        # watermark (the inference id is not documented to reach the container).
        CustomAttributes=f"image_id={inference_id}",
        Filename=filename,
        ContentType="application/json",
        Accept="image/png",
        InvocationTimeoutSeconds=timeout_s,
    )
    return Invocation(str(answer["InferenceId"]), str(answer["OutputLocation"]))
