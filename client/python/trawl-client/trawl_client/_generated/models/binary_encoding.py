from enum import Enum


class BinaryEncoding(str, Enum):
    BASE64 = "base64"
    U64 = "u64"

    def __str__(self) -> str:
        return str(self.value)
