FROM python:3.11-slim
WORKDIR /srv/keyward
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY app ./app
COPY workers ./workers
RUN pip install --no-cache-dir . && useradd --system keyward
USER keyward
EXPOSE 8000
CMD ["keyward", "serve", "--host", "0.0.0.0", "--port", "8000"]
