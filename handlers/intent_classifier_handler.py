"""TorchServe handler for the intent classifier: text in, {"intent", "score"} out.

The example fleet's handler (serving.yaml, models[0].handler). Its packages are pinned in
handlers/intent_classifier/requirements.txt; torch-model-archiver packages it with the
tokenizer files (--extra-files).
"""
import json
import os

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from ts.torch_handler.base_handler import BaseHandler


class IntentClassifierHandler(BaseHandler):
    def initialize(self, context):
        model_dir = context.system_properties.get("model_dir")
        gpu_id = context.system_properties.get("gpu_id")
        self.device = torch.device(f"cuda:{gpu_id}" if torch.cuda.is_available() and gpu_id is not None else "cpu")
        fraction = float(os.environ.get("GPU_MEMORY_FRACTION", "0.8"))
        if self.device.type == "cuda":
            torch.cuda.set_per_process_memory_fraction(fraction, self.device)
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForSequenceClassification.from_pretrained(model_dir).to(self.device).eval()
        self.initialized = True

    def preprocess(self, data):
        texts = []
        for row in data:
            body = row.get("data") or row.get("body")
            if isinstance(body, (bytes, bytearray)):
                body = body.decode("utf-8")
            if isinstance(body, str):
                body = json.loads(body) if body.startswith("{") else {"text": body}
            texts.append(body["text"])
        return self.tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt").to(self.device)

    def inference(self, inputs):
        with torch.inference_mode():
            return torch.softmax(self.model(**inputs).logits, dim=-1)

    def postprocess(self, scores):
        labels = self.model.config.id2label
        best = scores.max(dim=-1)
        return [{"intent": labels[int(i)], "score": round(float(s), 4)} for s, i in zip(best.values, best.indices)]
